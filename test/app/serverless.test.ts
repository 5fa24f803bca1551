/**
 * Serverless-shaped runs of the installed package: a fresh, short-lived process per request
 * (set up, record, shut down, exit), as a function platform runs it.
 * - With the receiver up, every request's record is delivered before its process exits, and each
 *   process's chain verifies closed.
 * - With the receiver down, the process still exits in bounded time and reports the records it
 *   leaves behind in the spool; the next cold start delivers them.
 * - In a read-only working directory (a function's code directory) the spool falls back to the OS
 *   temp directory with a warning; an explicitly configured directory that cannot be written fails
 *   at startup with a message naming it.
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OtlpReceiver, type OtlpLogRecordJson } from "../helpers/otlp-receiver.js";
import { createConsumer, node } from "./helpers/consumer.js";

const KEY = "serverless-chain-key";

// The function: what a user's handler does around one request. Warnings of the SDK (and ours) go
// to stderr through OTel's diag logger, as a deployed function's logs would show them.
const HANDLER = `import { diag, DiagConsoleLogger, DiagLogLevel } from "@opentelemetry/api";
import { setupAudit } from "otel-auth-audit";

diag.setLogger(new DiagConsoleLogger(), DiagLogLevel.WARN);
const { audit, durable, shutdown } = setupAudit({ serviceName: "function", durable: { flushTimeoutMillis: 3000 } });
await audit.record({ action: "report:export", outcome: "success", userId: process.argv[2] });
await shutdown();
const health = durable.health();
console.log(JSON.stringify({ left: health.spooledRecords, directory: health.directory }));
`;

let app: string;
const receiver = new OtlpReceiver();

beforeAll(async () => {
  app = await createConsumer("serverless", ["@opentelemetry/api@^1.10.0"]);
  writeFileSync(join(app, "handler.mjs"), HANDLER);
  receiver.keep = () => true;
  await receiver.up();
});
afterAll(() => receiver.close());

const env = (extra: Record<string, string> = {}) => ({
  ...process.env,
  OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: receiver.url,
  OTEL_AUTH_AUDIT_KEY: KEY,
  OTEL_AUTH_AUDIT_SPOOL_DIR: "",
  ...extra,
});

interface Invocation {
  code: number | null;
  ms: number;
  stderr: string;
  result: { left: number; directory: string } | undefined;
}

async function invoke(user: string, options: { cwd?: string; env?: NodeJS.ProcessEnv; uid?: number; gid?: number } = {}): Promise<Invocation> {
  const ran = await node([join(app, "handler.mjs"), user], { cwd: options.cwd ?? app, env: options.env ?? env(), uid: options.uid, gid: options.gid, timeoutMs: 60_000 });
  const line = ran.stdout.trim().split("\n").pop() ?? "";
  return { code: ran.code, ms: ran.ms, stderr: ran.stderr, result: line.startsWith("{") ? JSON.parse(line) : undefined };
}

const userOf = (r: OtlpLogRecordJson) => r.attributes?.find((a) => a.key === "user.id")?.value?.stringValue;

describe("a fresh process per request", () => {
  it("delivers every request's record before the process exits; each process's chain is closed and verifies", async () => {
    const users = ["fn-user-1", "fn-user-2", "fn-user-3", "fn-user-4"];
    for (const user of users) {
      const run = await invoke(user);
      expect(run.code, run.stderr).toBe(0);
      expect(run.result?.left, "records left in the spool at exit").toBe(0);
      // delivered before exit: the receiver has it the moment the process is gone
      expect(receiver.kept.map(userOf)).toContain(user);
    }
    // one chain per process, each closed by its final checkpoint: verify with the installed CLI
    const body = { resourceLogs: [{ resource: {}, scopeLogs: [{ scope: { name: "otel-auth-audit" }, logRecords: receiver.kept }] }] };
    const file = join(app, "received.json");
    writeFileSync(file, JSON.stringify(body));
    const verify = await node([join(app, "node_modules/otel-auth-audit/dist/cli/index.js"), "verify", file, "--key", KEY, "--require-closed", "--json"], { cwd: app });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    const report = JSON.parse(verify.stdout) as { ok: boolean; chains: unknown[] };
    expect(report.ok).toBe(true);
    expect(report.chains).toHaveLength(users.length);
  });

  it("with the receiver down, exits in bounded time and reports what it left; the next cold start delivers it", async () => {
    await receiver.down();
    const down = await invoke("fn-left-behind");
    expect(down.code, down.stderr).toBe(0);
    expect(down.ms).toBeLessThan(30_000);
    expect(down.result?.left).toBeGreaterThan(0);
    expect(down.stderr).toMatch(/audit records unsent in .*; they are kept on disk/);
    expect(receiver.kept.map(userOf)).not.toContain("fn-left-behind");

    await receiver.up();
    const next = await invoke("fn-next");
    expect(next.code, next.stderr).toBe(0);
    expect(next.result?.left).toBe(0);
    expect(receiver.kept.map(userOf)).toEqual(expect.arrayContaining(["fn-left-behind", "fn-next"]));
  });
});

describe.skipIf(process.getuid?.() !== 0)("a read-only working directory (run as nobody, the way a function's code dir is read-only)", () => {
  const NOBODY = 65534;
  let readOnly: string;
  beforeAll(() => {
    readOnly = join(app, "read-only-cwd");
    mkdirSync(readOnly, { recursive: true });
    chmodSync(readOnly, 0o555);
  });

  it("the spool falls back to the OS temp directory, says so, and the record is delivered", async () => {
    const run = await invoke("fn-read-only", { cwd: readOnly, uid: NOBODY, gid: NOBODY, env: env({ TMPDIR: "/tmp" }) });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/cannot write the audit spool at .*read-only-cwd.* \((EACCES|EPERM|EROFS)\); using \/tmp\//);
    expect(run.result?.directory).toMatch(/^\/tmp\/otel-auth-audit-65534\/spool/);
    expect(run.result?.left).toBe(0);
    expect(receiver.kept.map(userOf)).toContain("fn-read-only");
  });

  it("an explicitly configured spool directory that cannot be written fails at startup, naming it", async () => {
    const dir = join(readOnly, "spool");
    const run = await invoke("fn-bad-dir", { cwd: readOnly, uid: NOBODY, gid: NOBODY, env: env({ OTEL_AUTH_AUDIT_SPOOL_DIR: dir }) });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(dir);
    expect(run.stderr).toMatch(/EACCES|EPERM|EROFS/);
    expect(receiver.kept.map(userOf)).not.toContain("fn-bad-dir");
  });
});
