import { diag, DiagLogLevel } from "@opentelemetry/api";
import { OTLPLogExporter } from "@opentelemetry/exporter-logs-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { LoggerProvider } from "@opentelemetry/sdk-logs";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  AuditLogger,
  AuditOptionsError,
  DurableLogRecordProcessor,
  readOtlpJson,
  type DurableLogRecordProcessorOptions,
} from "otel-auth-audit";
import { useCleanup } from "../helpers/cleanup.js";
import { attributeOf, type OtlpReceiver } from "../helpers/otlp-receiver.js";

const { cleanup, tempDir, receiver } = useCleanup();
const fast = { retryInitialDelayMillis: 20, retryMaxDelayMillis: 200, scheduledDelayMillis: 5 };

function pipeline(rx: OtlpReceiver, options: Partial<DurableLogRecordProcessorOptions> = {}) {
  const processor = new DurableLogRecordProcessor({
    exporter: new OTLPLogExporter({ url: rx.url, timeoutMillis: 2000 }),
    directory: tempDir(),
    ...fast,
    ...options,
  });
  const provider = new LoggerProvider({ resource: resourceFromAttributes({ "service.name": "faults" }), processors: [processor] });
  cleanup.push(() => provider.shutdown());
  return { processor, provider, audit: new AuditLogger({ loggerProvider: provider }), raw: provider.getLogger("otel-auth-audit") };
}

function diagLines(): string[] {
  const lines: string[] = [];
  const push = (m: string) => void lines.push(m);
  diag.setLogger({ error: push, warn: push, info: () => undefined, debug: () => undefined, verbose: () => undefined }, DiagLogLevel.WARN);
  cleanup.push(() => diag.disable());
  return lines;
}

describe("poison pill: a record the receiver refuses", () => {
  it("is isolated by bisection, dead-lettered and reported; every record behind it is delivered", async () => {
    const rx = await receiver();
    rx.keep = (r) => r.eventName === "audit.spool.dead_letter";
    const lines = diagLines();
    const { processor, audit, raw } = pipeline(rx, { batchSize: 64 });
    const ids: string[] = [];
    for (let i = 0; i < 26; i++) {
      const id = `rec-${i}`;
      if (i === 5) {
        // a record built by hand, bypassing the AuditLogger's encoding: JSON writes NaN as null
        raw.emit({ eventName: "auth.custom", attributes: { "audit.id": id, "audit.metadata.score": Number.NaN } });
      } else {
        ids.push(id);
        void audit.record({ id, action: "sign-in:email", outcome: "success", userId: `u${i}` });
      }
    }
    await processor.forceFlush({ timeoutMillis: 10_000 });
    expect(await rx.waitFor(ids, 5000)).toBe(true);
    expect(rx.ids.has("rec-5")).toBe(false);
    const health = processor.health();
    expect(health.totals.deadLettered).toBe(1);
    // the dead-letter file holds it as OTLP JSON, readable by verify's reader
    const dead = readOtlpJson(readFileSync(health.deadLetterFile, "utf8"));
    expect(dead.map((r) => r.attributes?.find((a) => a.key === "audit.id")?.value?.stringValue)).toEqual(["rec-5"]);
    // a critical record says so, in the audit scope
    expect(await rx.waitFor(1 + ids.length, 3000)).toBe(true);
    await processor.forceFlush();
    expect(processor.health().spooledRecords).toBe(0);
    const [report] = rx.kept;
    expect(report.severityNumber).toBe(17);
    expect(attributeOf(report, "audit.severity")).toBe("critical");
    expect(attributeOf(report, "audit.spool.dead_letter.record_id")).toBe("rec-5");
    expect(String(attributeOf(report, "audit.spool.dead_letter.reason"))).toMatch(/^400/);
    expect(lines.some((l) => /refused audit record rec-5/.test(l))).toBe(true);
  });

  it("several bad records in one batch: each alone is dead-lettered, nothing else", async () => {
    const rx = await receiver();
    rx.refuse = (r) => attributeOf(r, "user.id") === "bad";
    diagLines();
    const { processor, audit } = pipeline(rx, { batchSize: 100 });
    const good: string[] = [];
    for (let i = 0; i < 60; i++) {
      const bad = i % 17 === 3;
      void audit.record({ id: `r${i}`, action: "sign-in:email", outcome: "success", userId: bad ? "bad" : "ok" });
      if (!bad) good.push(`r${i}`);
    }
    await processor.forceFlush({ timeoutMillis: 10_000 });
    expect(await rx.waitFor(good, 5000)).toBe(true);
    expect(processor.health().totals.deadLettered).toBe(4);
    expect(processor.health().totals.exported).toBe(good.length);
  });

  it("401/403/404 and 5xx are not refusals of the records: nothing is dead-lettered", async () => {
    for (const status of [401, 403, 404, 503]) {
      const rx = await receiver();
      rx.reply = (n) => (n < 2 ? { status } : {});
      diagLines();
      const { processor, audit } = pipeline(rx);
      void audit.record({ id: `s${status}`, action: "sign-out", outcome: "success", userId: "u" });
      await processor.forceFlush({ timeoutMillis: 5000 });
      expect(await rx.waitFor([`s${status}`], 3000)).toBe(true);
      expect(processor.health().totals.deadLettered).toBe(0);
    }
  });
});

describe("a flipped byte in the spool of a processor", () => {
  it("costs one record, which health() and diag report; the rest are delivered", async () => {
    const directory = tempDir();
    const rx = await receiver();
    rx.reply = () => ({ status: 503 });
    diagLines();
    const first = pipeline(rx, { directory, flushTimeoutMillis: 10, shutdownTimeoutMillis: 200 });
    for (let i = 0; i < 20; i++) void first.audit.record({ id: `f${i}`, action: "sign-in:email", outcome: "success", userId: `u${i}` });
    await first.provider.shutdown();
    const [segment] = readdirSync(directory).filter((f) => f.endsWith(".seg"));
    const image = readFileSync(join(directory, segment));
    image[Math.floor(image.length / 2)] ^= 0x40;
    writeFileSync(join(directory, segment), image);
    rx.reply = () => ({});
    const lines = diagLines();
    const second = pipeline(rx, { directory });
    await second.processor.forceFlush({ timeoutMillis: 5000 });
    expect(rx.unique).toBe(19);
    expect(second.processor.health().damagedFrames).toBe(1);
    expect(second.processor.health().totals.dropped).toBe(1);
    expect(lines.some((l) => /damaged frame/.test(l))).toBe(true);
  });
});

describe("options are validated at construction", () => {
  it.each([
    [{ batchSize: 0 }, "batchSize"],
    [{ batchSize: 1.5 }, "batchSize"],
    [{ overflow: "drop-newest" }, "overflow"],
    [{ fsync: "sometimes" }, "fsync"],
    [{ maxBytes: -1 }, "maxBytes"],
    [{ segmentBytes: 0 }, "segmentBytes"],
    [{ exportTimeoutMillis: Number.NaN }, "exportTimeoutMillis"],
    [{ shutdownTimeoutMillis: -5 }, "shutdownTimeoutMillis"],
    [{ batchsize: 10 }, "batchsize"],
    [{ exporter: {} }, "exporter"],
  ])("%j is refused, naming %s", (bad, option) => {
    const exporter = { export: () => undefined, shutdown: async () => undefined };
    let error: unknown;
    try {
      new DurableLogRecordProcessor({ exporter, directory: tempDir(), ...(bad as object) } as unknown as DurableLogRecordProcessorOptions);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AuditOptionsError);
    expect((error as AuditOptionsError).option).toBe(option);
  });
});

describe("stranded default spools", () => {
  it("a process that died (its pid now someone else's) left records in spool-1: the next process takes them over and sends them; another stranded one is reported", async () => {
    const { spawn } = await import("node:child_process");
    const { processStart } = await import("../../src/durable/lock.js");
    const base = join(tempDir(), "spool");
    const rx = await receiver();
    rx.reply = () => ({ status: 503 });
    diagLines();
    const left: Record<string, string[]> = {};
    for (const dir of [`${base}-1`, `${base}-2`]) {
      const p = pipeline(rx, { directory: dir, flushTimeoutMillis: 10, shutdownTimeoutMillis: 100 });
      left[dir] = [0, 1, 2].map((i) => `${dir.slice(-7)}-${i}`);
      for (const id of left[dir]) void p.audit.record({ id, action: "sign-in:email", outcome: "success", userId: "u" });
      await p.provider.shutdown();
    }
    // crashed owners whose pids are now a live, unrelated process
    const sleeper = spawn("sleep", ["30"], { stdio: "ignore" });
    cleanup.push(() => void sleeper.kill());
    await new Promise((r) => setTimeout(r, 50));
    const stale = JSON.stringify({ pid: sleeper.pid, start: processStart(sleeper.pid!)! - 5, boot: null });
    writeFileSync(join(`${base}-1`, "lock"), stale);
    writeFileSync(join(`${base}-2`, "lock"), stale);
    rx.reply = () => ({});
    const warnings: string[] = [];
    const onWarning = (w: Error) => void warnings.push(w.message);
    process.on("warning", onWarning);
    cleanup.push(() => void process.off("warning", onWarning));
    const previous = process.env.OTEL_AUTH_AUDIT_SPOOL_DIR;
    process.env.OTEL_AUTH_AUDIT_SPOOL_DIR = base;
    cleanup.push(() => {
      if (previous === undefined) delete process.env.OTEL_AUTH_AUDIT_SPOOL_DIR;
      else process.env.OTEL_AUTH_AUDIT_SPOOL_DIR = previous;
    });
    const next = new DurableLogRecordProcessor({ exporter: new OTLPLogExporter({ url: rx.url }), ...fast });
    cleanup.push(() => next.shutdown());
    expect(next.health().directory).toBe(`${base}-1`);
    expect(next.health().strandedSpools).toEqual([`${base}-2`]);
    await next.forceFlush({ timeoutMillis: 5000 });
    expect(await rx.waitFor(left[`${base}-1`], 3000)).toBe(true);
    await new Promise((r) => setImmediate(r));
    expect(warnings.some((w) => w.includes(`${base}-2`) && /unsent audit records/.test(w))).toBe(true);
  });
});
