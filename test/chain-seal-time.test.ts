import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ExportResultCode } from "@opentelemetry/core";
import {
  BatchLogRecordProcessor,
  LoggerProvider,
  SimpleLogRecordProcessor,
  type LogRecordExporter,
  type LogRecordProcessor,
  type ReadableLogRecord,
} from "@opentelemetry/sdk-logs";
import { afterAll, describe, expect, it } from "vitest";
import { AuditLogger, DurableLogRecordProcessor, IntegrityProcessor } from "otel-auth-audit";
import { verifyRecords } from "otel-auth-audit/verify";

// The chain may be computed after onEmit only where no processor after it reads a record before
// then. Whatever follows the IntegrityProcessor, what it sees (at export, or inside its own
// onEmit) carries the chain fields, and the exported log verifies.

const KEY = "seal-time-key";
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Serialises each record the moment it gets it, as a network exporter does. */
class SerialisingExporter implements LogRecordExporter {
  readonly seen: Array<Record<string, unknown>> = [];
  readonly records: ReadableLogRecord[] = [];
  export(batch: ReadableLogRecord[], done: (r: { code: ExportResultCode }) => void): void {
    for (const r of batch) this.seen.push(JSON.parse(JSON.stringify(r.attributes)));
    this.records.push(...batch);
    done({ code: ExportResultCode.SUCCESS });
  }
  shutdown = async () => undefined;
  forceFlush = async () => undefined;
}

/** A processor of the app's own that reads attributes inside onEmit. */
class Peeking implements LogRecordProcessor {
  readonly seen: Array<Record<string, unknown>> = [];
  onEmit(record: ReadableLogRecord): void {
    this.seen.push({ ...record.attributes });
  }
  forceFlush = async () => undefined;
  shutdown = async () => undefined;
}

const spool = () => {
  const d = mkdtempSync(join(tmpdir(), "oaa-seal-"));
  dirs.push(d);
  return d;
};

const cases: Array<[string, (e: SerialisingExporter) => LogRecordProcessor[]]> = [
  ["a Simple processor with a network exporter", (e) => [new SimpleLogRecordProcessor({ exporter: e })]],
  ["the SDK's Batch processor filling whole batches", (e) => [new BatchLogRecordProcessor({ exporter: e, maxExportBatchSize: 8, scheduledDelayMillis: 1 })]],
  ["the durable spool", (e) => [new DurableLogRecordProcessor({ exporter: e, directory: spool(), scheduledDelayMillis: 1 })]],
  ["the durable spool, then the Batch processor", (e) => [new DurableLogRecordProcessor({ exporter: e, directory: spool(), scheduledDelayMillis: 1 }), new BatchLogRecordProcessor({ exporter: new SerialisingExporter() })]],
];

describe("when the chain is computed", () => {
  for (const [name, after] of cases) {
    it(`${name}: every record carries its chain fields when it is read, and the log verifies`, async () => {
      const exporter = new SerialisingExporter();
      const integrity = new IntegrityProcessor({ key: KEY, checkpointEvery: 25, checkpointIntervalMs: 0 });
      const provider = new LoggerProvider({ processors: [integrity, ...after(exporter)] });
      integrity.bind(provider);
      const audit = new AuditLogger({ loggerProvider: provider });
      // one burst in a single task, then some with turns in between
      const burst = Array.from({ length: 60 }, (_, i) => audit.record({ id: `b-${i}`, action: "sign-in:email", outcome: "success", userId: "u" }));
      await Promise.all(burst);
      for (let i = 0; i < 10; i++) {
        await audit.record({ id: `s-${i}`, action: "sign-out", outcome: "success", userId: "u" });
        await new Promise((r) => setImmediate(r));
      }
      await provider.shutdown();
      expect(exporter.seen.length).toBeGreaterThanOrEqual(70);
      for (const attributes of exporter.seen) {
        expect(attributes["audit.chain.hash"], JSON.stringify(attributes)).toMatch(/^[0-9a-f]{64}$/);
        expect(attributes["audit.chain.prev"]).toMatch(/^[0-9a-f]{64}$/);
      }
      expect(verifyRecords(exporter.records, { key: KEY, requireClosed: true })).toMatchObject({ ok: true, chains: [{ closed: true }] });
    });
  }

  it("an app's own processor after the chain sees the chain fields inside its onEmit", async () => {
    const peeking = new Peeking();
    const integrity = new IntegrityProcessor({ key: KEY, checkpointIntervalMs: 0 });
    const provider = new LoggerProvider({ processors: [integrity, peeking] });
    integrity.bind(provider);
    const audit = new AuditLogger({ loggerProvider: provider });
    for (let i = 0; i < 5; i++) void audit.record({ action: "sign-in:email", outcome: "success", userId: "u" });
    expect(peeking.seen).toHaveLength(5);
    for (const attributes of peeking.seen) expect(attributes["audit.chain.hash"]).toMatch(/^[0-9a-f]{64}$/);
    await provider.shutdown();
  });

  it("`await record()` resolves with the record chained and spooled", async () => {
    const exporter = new SerialisingExporter();
    const integrity = new IntegrityProcessor({ key: KEY, checkpointIntervalMs: 0 });
    const directory = spool();
    const durable = new DurableLogRecordProcessor({ exporter, directory });
    const provider = new LoggerProvider({ processors: [integrity, durable] });
    integrity.bind(provider);
    const audit = new AuditLogger({ loggerProvider: provider });
    // read from the disk, not through the processors (their getters settle the turn themselves)
    const spooledBytes = () => readdirSync(directory).filter((f) => f.endsWith(".seg")).reduce((n, f) => n + statSync(join(directory, f)).size, 0);
    const before = spooledBytes();
    const recorded = audit.record({ id: "awaited", action: "sign-in:email", outcome: "success", userId: "u" });
    expect(spooledBytes()).toBe(before); // queued, not written yet
    await recorded;
    expect(spooledBytes()).toBeGreaterThan(before);
    const text = readdirSync(directory).filter((f) => f.endsWith(".seg")).map((f) => readFileSync(join(directory, f), "latin1")).join("");
    expect(text).toContain("awaited");
    expect(text).toContain("audit.chain.hash");
    await provider.shutdown();
  });
});

describe("a long synchronous loop", () => {
  it("holds at most a bounded number of records: 10,000 emitted without a turn are chained and spooled as they go, and verify", async () => {
    const exporter = new SerialisingExporter();
    const integrity = new IntegrityProcessor({ key: KEY, checkpointEvery: 1000, checkpointIntervalMs: 0 });
    const directory = spool();
    const durable = new DurableLogRecordProcessor({ exporter, directory, scheduledDelayMillis: 1 });
    const provider = new LoggerProvider({ processors: [integrity, durable] });
    integrity.bind(provider);
    const audit = new AuditLogger({ loggerProvider: provider });
    const segmentBytes = () => readdirSync(directory).filter((f) => f.endsWith(".seg")).reduce((n, f) => n + statSync(join(directory, f)).size, 0);
    const before = segmentBytes();
    const done: Promise<unknown>[] = [];
    for (let i = 0; i < 10_000; i++) done.push(audit.record({ id: `loop-${i}`, action: "sign-in:email", outcome: "success", userId: "u" }));
    // still inside the same task: most of the loop is on disk already
    expect(segmentBytes() - before).toBeGreaterThan(1_000_000);
    await Promise.all(done);
    await provider.shutdown();
    const ids = exporter.records.map((r) => r.attributes["audit.id"]).filter((id) => typeof id === "string" && id.startsWith("loop-"));
    expect(new Set(ids).size).toBe(10_000);
    const result = verifyRecords(exporter.records, { key: KEY, requireClosed: true });
    expect(result).toMatchObject({ ok: true, chains: [{ closed: true }] });
    expect(result.chains[0].checkpoints).toBeGreaterThanOrEqual(2); // count checkpoints wait for the loop to yield, as inside onEmit always
  });
});
