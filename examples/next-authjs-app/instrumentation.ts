// Next.js calls register() once when the server starts. The audit pipeline runs in the Node.js
// runtime only (the Edge runtime has no file system for the spool).
export async function register() {
  if (process.env.NEXT_RUNTIME === "nodejs") await import("./instrumentation-node");
}
