import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const APP = fileURLToPath(new URL("./durable-app.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** A running durable-app child, its stdout split into lines. */
export interface AppProcess {
  child: ChildProcess;
  lines: string[];
  /** Resolves with the first line starting with `prefix` (rejects after timeoutMs). */
  waitForLine(prefix: string, timeoutMs: number): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

/** Starts test/helpers/durable-app.ts on this Node (process.execPath) with tsx, bounded by `killAfterMs`. */
export function startApp(config: Record<string, unknown>, killAfterMs = 120_000): AppProcess {
  const child = spawn(process.execPath, ["--import", "tsx", APP, JSON.stringify(config)], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  let partial = "";
  let err = "";
  const listeners = new Set<() => void>();
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    const parts = (partial + chunk).split("\n");
    partial = parts.pop()!;
    lines.push(...parts);
    for (const listener of listeners) listener();
  });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
  const guard = setTimeout(() => child.kill("SIGKILL"), killAfterMs);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => {
      clearTimeout(guard);
      if (partial) lines.push(partial), (partial = "");
      for (const listener of listeners) listener();
      resolve({ code, signal });
    }),
  );
  const waitForLine = (prefix: string, timeoutMs: number) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const line = lines.find((l) => l.startsWith(prefix));
        if (line !== undefined) {
          cleanup();
          resolve(line);
        } else if (child.exitCode !== null || child.signalCode !== null) {
          cleanup();
          reject(new Error(`app exited before printing "${prefix}": ${err}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no "${prefix}" line within ${timeoutMs} ms; stderr: ${err}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });
  return { child, lines, waitForLine, exited, stderr: () => err };
}
