import { diag, DiagLogLevel } from "@opentelemetry/api";
import { LoggerProvider } from "@opentelemetry/sdk-logs";
import { describe, expect, it, vi } from "vitest";
import { AuditLogger, DurableLogRecordProcessor } from "otel-auth-audit";
import { useCleanup } from "../helpers/cleanup.js";
import { GateExporter } from "../helpers/gate-exporter.js";

// Disk full without root: a fake fs layer whose writeSync fails with ENOSPC while `full` is set
// (the tmpfs test, test/faults/disk-full.test.ts, does it on a real filesystem).

const fake = vi.hoisted(() => ({ full: false }));
vi.mock("node:fs", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs")>();
  const writeSync = ((...args: Parameters<typeof fs.writeSync>) => {
    if (fake.full) throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC", errno: -28, syscall: "write" });
    return (fs.writeSync as (...a: unknown[]) => number)(...args);
  }) as typeof fs.writeSync;
  return { ...fs, default: { ...fs, writeSync }, writeSync };
});

const { cleanup, tempDir } = useCleanup();


describe("disk full (injected ENOSPC)", () => {
  it("drop-oldest with nothing to drop: one diag error for 500 lost records, one overflow record counting them all", async () => {
    const lines: string[] = [];
    diag.setLogger({ error: (m) => void lines.push(m), warn: (m) => void lines.push(m), info: () => undefined, debug: () => undefined, verbose: () => undefined }, DiagLogLevel.WARN);
    cleanup.push(() => diag.disable());
    const exporter = new GateExporter();
    const processor = new DurableLogRecordProcessor({ exporter, directory: tempDir(), retryInitialDelayMillis: 20, retryMaxDelayMillis: 50, scheduledDelayMillis: 5 });
    const provider = new LoggerProvider({ processors: [processor] });
    cleanup.push(() => provider.shutdown());
    const audit = new AuditLogger({ loggerProvider: provider });
    for (let i = 0; i < 10; i++) await audit.record({ id: `before-${i}`, action: "sign-in:email", outcome: "success", userId: "u" });
    fake.full = true;
    for (let i = 0; i < 500; i++) await audit.record({ id: `lost-${i}`, action: "sign-in:email", outcome: "success", userId: "u" });
    fake.full = false;
    expect(lines.filter((l) => /the disk is full/.test(l))).toHaveLength(1);
    expect(processor.health().totals.dropped).toBe(500);
    await audit.record({ id: "after", action: "sign-out", outcome: "success", userId: "u" });
    exporter.open = true;
    await processor.forceFlush();
    const records = exporter.memory.getFinishedLogRecords();
    const overflow = records.filter((r) => r.eventName === "audit.spool.overflow");
    expect(overflow).toHaveLength(1);
    expect(overflow[0].attributes).toMatchObject({ "audit.spool.reason": "disk_full", "audit.spool.dropped_records": 500, "audit.severity": "critical" });
    expect(records.filter((r) => r.eventName !== "audit.spool.overflow").map((r) => r.attributes["audit.id"])).toEqual([
      ...Array.from({ length: 10 }, (_, i) => `before-${i}`),
      "after",
    ]);
  });
});
