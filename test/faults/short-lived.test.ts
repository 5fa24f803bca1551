import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { useCleanup } from "../helpers/cleanup.js";

const SCRIPT = fileURLToPath(new URL("../helpers/short-lived.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const { tempDir, receiver } = useCleanup();

function runScript(endpoint: string, spool: string): Promise<{ code: number | null; stdout: string; stderr: string; endedAfterMs: number }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", SCRIPT], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: "http/json", OTEL_AUTH_AUDIT_SPOOL_DIR: spool, OTEL_AUTH_AUDIT_KEY: "k" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    const guard = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("exit", (code) => {
      clearTimeout(guard);
      const ended = Number(/signed-up \d+ (\d+)/.exec(stdout)?.[1] ?? Date.now());
      resolve({ code, stdout, stderr, endedAfterMs: Date.now() - ended });
    });
  });
}

describe("a short-lived script with auditLog() zero config", () => {
  it("delivers what it recorded when it simply ends (flush on beforeExit), chain closed", async () => {
    const rx = await receiver();
    rx.keep = () => true;
    const result = await runScript(`http://127.0.0.1:${rx.port}`, tempDir());
    expect(result.stdout).toMatch(/signed-up 200/);
    expect(result.code).toBe(0);
    expect(rx.kept.map((r) => r.eventName)).toEqual(["auth.sign_up.email", "audit.checkpoint"]);
    expect(result.stderr).not.toMatch(/unsent/);
  }, 90_000);

  it("with no collector, ends within the shutdown bound and says what it left (path and count)", async () => {
    const rx = await receiver();
    const port = rx.port;
    await rx.down();
    const spool = tempDir();
    const result = await runScript(`http://127.0.0.1:${port}`, spool);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(new RegExp(`left 2 audit records unsent in ${spool.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
    expect(result.endedAfterMs).toBeLessThan(15_000);
  }, 90_000);
});
