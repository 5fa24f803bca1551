import { LoggerProvider } from "@opentelemetry/sdk-logs";
import { describe, expect, it, vi } from "vitest";
import { AuditLogger, DurableLogRecordProcessor } from "otel-auth-audit";
import { useCleanup } from "../helpers/cleanup.js";
import { GateExporter } from "../helpers/gate-exporter.js";

// `fsync: "interval"` (the default) forces the spool to disk once per interval. A synchronous
// fdatasync there stalls the event loop, and every request in flight, for the disk's flush time
// (3–8 ms on this VM) once a second. The interval sync must run on the thread pool, keep running
// while segments rotate and are deleted under it, and report a failure once, never throw.

const fake = vi.hoisted(() => ({ syncCalls: 0, syncsFromTimers: 0, asyncSyncs: 0, failAsync: false }));
vi.mock("node:fs", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs")>();
  const fdatasyncSync = ((fd: number) => {
    fake.syncCalls++;
    // a timer's callback (the interval) on the stack: the event loop waits for the disk
    if (new Error().stack?.includes("listOnTimeout")) fake.syncsFromTimers++;
    return fs.fdatasyncSync(fd);
  }) as typeof fs.fdatasyncSync;
  const fdatasync = ((fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => {
    fake.asyncSyncs++;
    if (fake.failAsync) return process.nextTick(callback, Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" }));
    return fs.fdatasync(fd, callback);
  }) as typeof fs.fdatasync;
  return { ...fs, default: { ...fs, fdatasyncSync, fdatasync }, fdatasyncSync, fdatasync };
});

const { cleanup, tempDir } = useCleanup();

function open(directory: string, exporter: GateExporter) {
  const processor = new DurableLogRecordProcessor({
    exporter, directory, segmentBytes: 64 * 1024, fsync: "interval", fsyncIntervalMillis: 10,
    scheduledDelayMillis: 5, retryInitialDelayMillis: 5, retryMaxDelayMillis: 20, flushTimeoutMillis: 500, shutdownTimeoutMillis: 500,
  });
  const provider = new LoggerProvider({ processors: [processor] });
  cleanup.push(() => provider.shutdown());
  return { processor, provider, audit: new AuditLogger({ loggerProvider: provider }) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const filler = "f".repeat(700);

describe("the interval fsync of the spool", () => {
  it("runs off the event loop, through segment rotations and deletions, and every record arrives", async () => {
    fake.syncCalls = 0;
    fake.syncsFromTimers = 0;
    fake.asyncSyncs = 0;
    fake.failAsync = false;
    const exporter = new GateExporter();
    exporter.open = true;
    const { audit, processor } = open(tempDir(), exporter);
    const ids: string[] = [];
    // ~1 KB records, 64 KiB segments: rotations (each synced synchronously once) and, with the
    // exporter open, acknowledged segments deleted while interval syncs may still be running
    for (let turn = 0; turn < 40; turn++) {
      for (let i = 0; i < 20; i++) {
        const id = `s-${turn}-${i}`;
        ids.push(id);
        await audit.record({ id, action: "sign-in:email", outcome: "success", userId: "u", metadata: { filler } });
      }
      await sleep(3);
    }
    await processor.forceFlush();
    expect(fake.asyncSyncs).toBeGreaterThan(3);
    // rotations sync synchronously (the old segment before it is closed), the interval never
    expect(fake.syncCalls).toBeGreaterThan(0);
    expect(fake.syncsFromTimers).toBe(0);
    const got = exporter.records().map((r) => r.attributes["audit.id"]);
    expect(new Set(got)).toEqual(new Set(ids));
    expect(processor.health().totals.dropped).toBe(0);
  });

  it("a failing interval sync is reported, retried at the next interval, and loses nothing", async () => {
    fake.asyncSyncs = 0;
    fake.failAsync = true;
    const errors: string[] = [];
    const { diag, DiagLogLevel } = await import("@opentelemetry/api");
    diag.setLogger({ error: (m: string) => errors.push(m), warn: () => {}, info: () => {}, debug: () => {}, verbose: () => {} }, DiagLogLevel.ERROR);
    cleanup.push(() => diag.disable());
    const exporter = new GateExporter();
    const { audit, processor } = open(tempDir(), exporter);
    await audit.record({ id: "f-1", action: "sign-out", outcome: "success", userId: "u" });
    await sleep(40);
    const failedOnce = fake.asyncSyncs;
    expect(failedOnce).toBeGreaterThanOrEqual(1);
    expect(errors.some((m) => m.includes("spool fsync failed"))).toBe(true);
    await sleep(40);
    // still dirty: the next intervals try again
    expect(fake.asyncSyncs).toBeGreaterThan(failedOnce);
    fake.failAsync = false;
    await sleep(40);
    const settled = fake.asyncSyncs;
    await sleep(40);
    // synced at last: nothing written since, nothing more to sync
    expect(fake.asyncSyncs).toBe(settled);
    exporter.open = true;
    await processor.forceFlush();
    expect(exporter.records().map((r) => r.attributes["audit.id"])).toEqual(["f-1"]);
  });
});
