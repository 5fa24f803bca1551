import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

export const COLLECTOR_DIR = fileURLToPath(new URL("../../../collector/", import.meta.url));
export const SCRIPTS = `${COLLECTOR_DIR}scripts/`;

/** Ports and directories of one Loki + collector started by the scripts (what start.sh reads). */
export interface StackEnv {
  RUN_DIR: string;
  LOKI_PORT: string;
  LOKI_GRPC_PORT: string;
  OTLP_HTTP_PORT: string;
  OTELCOL_HEALTH_PORT: string;
  OTELCOL_METRICS_PORT: string;
  OTELCOL_CONFIG: string;
  [name: string]: string;
}

export const lokiUrl = (env: StackEnv): string => `http://127.0.0.1:${env.LOKI_PORT}`;
export const otlpLogsUrl = (env: StackEnv): string => `http://127.0.0.1:${env.OTLP_HTTP_PORT}/v1/logs`;

/** A port that was free a moment ago, on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Free ports for a stack, all distinct. */
export async function stackPorts(): Promise<Pick<StackEnv, "LOKI_PORT" | "LOKI_GRPC_PORT" | "OTLP_HTTP_PORT" | "OTELCOL_HEALTH_PORT" | "OTELCOL_METRICS_PORT">> {
  const ports = new Set<number>();
  while (ports.size < 5) ports.add(await freePort());
  const [a, b, c, d, e] = [...ports].map(String);
  return { LOKI_PORT: a, LOKI_GRPC_PORT: b, OTLP_HTTP_PORT: c, OTELCOL_HEALTH_PORT: d, OTELCOL_METRICS_PORT: e };
}

/**
 * Runs one of collector/scripts (start.sh, stop.sh, build.sh) with the stack's environment,
 * bounded in time; resolves with its output, rejects with it on failure.
 */
export function runScript(script: string, args: string[], env: Record<string, string>, timeoutMs = 150_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [`${SCRIPTS}${script}`, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c));
    child.stderr.on("data", (c: Buffer) => (out += c));
    const timer = setTimeout(() => child.kill("SIGTERM"), timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${script} ${args.join(" ")} failed (${signal ?? `exit ${code}`}):\n${out}`));
    });
  });
}

/** Calls `probe` until it returns a value other than undefined, at most `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000, intervalMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
