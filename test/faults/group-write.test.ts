import { LoggerProvider } from "@opentelemetry/sdk-logs";
import { describe, expect, it, vi } from "vitest";
import { AuditLogger, DurableLogRecordProcessor } from "otel-auth-audit";
import { useCleanup } from "../helpers/cleanup.js";
import { GateExporter } from "../helpers/gate-exporter.js";

// The spool writes the records of one event-loop turn with one write per segment. A write that
// fails half-way through such a group (an error, or a short write and then an error, before or
// after a segment rotation) must cost nothing: the group is cut back and its records are appended
// one by one; every record arrives once, and a restart reads a spool without damage.

const fake = vi.hoisted(() => ({ failAt: -1, calls: 0, short: false }));
vi.mock("node:fs", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs")>();
  const writeSync = ((fd: number, buffer: Buffer, offset?: number, length?: number, position?: number) => {
    const call = fake.calls++;
    if (call === fake.failAt) {
      if (fake.short && typeof length === "number" && length > 1) {
        // half of it reaches the file, then the device fails
        fs.writeSync(fd, buffer, offset, Math.floor(length / 2), position);
      }
      throw Object.assign(new Error("EIO: i/o error, write"), { code: "EIO", errno: -5, syscall: "write" });
    }
    return (fs.writeSync as (...a: unknown[]) => number)(fd, buffer, offset, length, position);
  }) as typeof fs.writeSync;
  return { ...fs, default: { ...fs, writeSync }, writeSync };
});

const { cleanup, tempDir } = useCleanup();

class Gate extends GateExporter {
  ids = () => this.records().map((r) => r.attributes["audit.id"] as string).filter((id) => id?.startsWith("g"));
}

function open(directory: string, exporter: Gate) {
  const processor = new DurableLogRecordProcessor({
    exporter, directory, segmentBytes: 64 * 1024, fsync: "never",
    retryInitialDelayMillis: 5, retryMaxDelayMillis: 20, scheduledDelayMillis: 5, flushTimeoutMillis: 200, shutdownTimeoutMillis: 300,
  });
  const provider = new LoggerProvider({ processors: [processor] });
  return { processor, provider, audit: new AuditLogger({ loggerProvider: provider }) };
}

const N = 300;
const filler = "f".repeat(700); // ~1 KB records: a 64 KiB segment rotates inside the group

describe("group write of a turn's records", () => {
  // write calls: the segment header of the first segment, then one per group (and per rotation)
  for (const failAt of [1, 2, 3, 5]) {
    for (const short of [false, true]) {
      it(`a ${short ? "short write then an error" : "failed write"} at write call ${failAt}: every record once, a clean spool after restart`, async () => {
        fake.calls = 0;
        fake.failAt = -1;
        fake.short = short;
        const directory = tempDir();
        const exporter = new Gate();
        const first = open(directory, exporter);
        fake.calls = 0;
        fake.failAt = failAt;
        const emitted: string[] = [];
        const done: Promise<unknown>[] = [];
        for (let i = 0; i < N; i++) {
          const id = `g${failAt}${short ? "s" : ""}-${i}`;
          emitted.push(id);
          done.push(first.audit.record({ id, action: "sign-in:email", outcome: "success", userId: "u", metadata: { filler } }));
        }
        await Promise.all(done);
        expect(fake.calls).toBeGreaterThan(failAt); // the failure happened
        fake.failAt = -1;
        const health = first.processor.health();
        expect(health.totals.spooled).toBe(N);
        expect(health.totals.dropped).toBe(0);
        await first.provider.shutdown(); // collector down: everything stays spooled

        const second = open(directory, exporter);
        cleanup.push(() => second.provider.shutdown());
        expect(second.processor.health().damagedFrames).toBe(0);
        expect(second.processor.health().recoveredRecords).toBe(N);
        exporter.open = true;
        await second.processor.forceFlush();
        const ids = exporter.ids();
        expect(new Set(ids).size).toBe(ids.length);
        expect(ids.sort()).toEqual([...emitted].sort());
      });
    }
  }

  it("writes a turn's records with one call per segment", async () => {
    fake.calls = 0;
    fake.failAt = -1;
    const exporter = new Gate();
    const { audit, provider } = open(tempDir(), exporter);
    cleanup.push(() => provider.shutdown());
    const before = fake.calls;
    const done = Array.from({ length: 50 }, (_, i) => audit.record({ id: `g-one-${i}`, action: "sign-in:email", outcome: "success", userId: "u" }));
    await Promise.all(done);
    expect(fake.calls - before).toBe(1);
  });
});
