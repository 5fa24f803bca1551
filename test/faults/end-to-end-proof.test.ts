import { OTLPLogExporter } from "@opentelemetry/exporter-logs-otlp-http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { setupAudit } from "otel-auth-audit";
import { readOtlpJson, verifyRecords } from "otel-auth-audit/verify";
import { runVerify } from "../../src/cli/verify.js";

// What an operator who must prove that no audit record was lost does: verify what the collector
// received — real OTLP/HTTP JSON from the default setup (redaction → chain → disk spool) —
// together with the dead-letter file. Values OTLP cannot carry ride along (NaN, ±Infinity, -0,
// BigInt, int64 beyond 2^53), and the receiver refuses one record (a poison pill).

const KEY = "end-to-end-key";
const dir = mkdtempSync(join(tmpdir(), "oaa-e2e-proof-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An OTLP/HTTP JSON receiver keeping each accepted request body; refuses (400) a request holding `poison`. */
async function receiver(poison: string) {
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      if (body.includes(poison)) {
        res.writeHead(400, { "content-type": "application/json" }).end('{"code":3,"message":"refused"}');
        return;
      }
      bodies.push(body);
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/logs`;
  return { bodies, url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const cli = async (args: string[]) => {
  let stdout = "";
  const out = new Writable({ write: (c, _e, cb) => ((stdout += String(c)), cb()) });
  return { code: await runVerify(args, out), stdout };
};

describe("end to end: the received log plus the dead letters prove every record", () => {
  it("values OTLP cannot carry and a refused record: verify --require-closed passes on both together, and sees the gap without the dead letters", async () => {
    const rx = await receiver("POISON-PILL");
    const spool = join(dir, "spool");
    const setup = setupAudit({
      exporter: new OTLPLogExporter({ url: rx.url, timeoutMillis: 2000 }),
      global: false,
      serviceName: "proof",
      durable: { directory: spool, scheduledDelayMillis: 5, retryInitialDelayMillis: 20, retryMaxDelayMillis: 200 },
      integrity: { key: KEY, checkpointEvery: 3, checkpointIntervalMs: 0 },
    });
    const weird = { nan: Number.NaN, inf: Number.POSITIVE_INFINITY, ninf: Number.NEGATIVE_INFINITY, negZero: -0, big: 10n ** 30n, int64: 2 ** 60, ratio: 0.1 + 0.2, list: [1, Number.NaN, -0] };
    for (let i = 0; i < 8; i++) {
      await setup.audit.record({
        action: "sign-in:email",
        outcome: i % 2 ? "failure" : "success",
        userId: `user-${i}`,
        metadata: { ...weird, i, note: i === 4 ? "POISON-PILL" : "fine" },
      });
    }
    const deadLetterFile = setup.durable!.health().deadLetterFile;
    await setup.shutdown();
    await rx.close();

    const received = join(dir, "received.jsonl");
    writeFileSync(received, rx.bodies.join("\n") + "\n");
    expect(existsSync(deadLetterFile)).toBe(true);

    // the received log alone misses the refused record: verify must say so
    const alone = verifyRecords(readOtlpJson(rx.bodies.join("\n")), { key: KEY, requireClosed: true });
    expect(alone.ok).toBe(false);
    expect(alone.problems.map((p) => p.kind)).toContain("gap");
    expect((await cli([received, "--key", KEY, "--require-closed"])).code).toBe(1);

    // with the dead letters, every record of the chain is there, the chain is closed, and the
    // critical dead-letter report is part of it
    const both = await cli([received, deadLetterFile, "--key", KEY, "--require-closed"]);
    expect(both.stdout).toMatch(/OK +chain .*closed, hmac-sha256/);
    expect(both.code).toBe(0);
    // the spool's own report is written after the chain: shown, never counted as proof
    expect(both.stdout).toMatch(/^info unchained: a report of the spool \(audit\.spool\.dead_letter/m);
    const all = readOtlpJson(rx.bodies.join("\n"));
    expect(all.some((r) => r.eventName === "audit.spool.dead_letter")).toBe(true);
    const meta = all.find((r) => r.attributes?.some((kv) => kv.key === "audit.metadata.nan"));
    const value = (k: string) => meta?.attributes?.find((kv) => kv.key === `audit.metadata.${k}`)?.value;
    expect(value("nan")).toEqual({ stringValue: "NaN" });
    expect(value("negZero")).toEqual({ stringValue: "-0" });
    expect(value("big")).toEqual({ stringValue: (10n ** 30n).toString() });
    // a double beyond 2^53 travels as its shortest digits, which the chain and verify read alike
    expect(String(value("int64")?.intValue)).toBe(String(2 ** 60));
  }, 30_000);
});
