import { setupAudit } from "otel-auth-audit";

// redaction → hash chain (keyed by OTEL_AUTH_AUDIT_KEY) → disk spool → OTLP/HTTP to
// OTEL_EXPORTER_OTLP_ENDPOINT; registered as the global LoggerProvider, which withAudit() uses.
const { shutdown } = setupAudit({ serviceName: "next-authjs-app" });

// On SIGTERM: close the hash chain, deliver what is spooled, then exit.
// Start with NEXT_MANUAL_SIG_HANDLE=true, or Next.js exits on SIGTERM before this has finished.
process.once("SIGTERM", () => {
  shutdown().finally(() => process.exit(0));
});
