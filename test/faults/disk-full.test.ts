import { diag, DiagLogLevel } from "@opentelemetry/api";
import { LoggerProvider } from "@opentelemetry/sdk-logs";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditLogger, DurableLogRecordProcessor, SpoolFullError } from "otel-auth-audit";
import type { OverflowPolicy } from "../../src/durable/processor.js";
import { GateExporter } from "../helpers/gate-exporter.js";

// Disk full on a real small filesystem (a 384 KiB tmpfs; needs root, else skipped).

let mountPoint: string;
let mounted = false;
beforeAll(() => {
  mountPoint = mkdtempSync(join(tmpdir(), "oaa-tmpfs-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=384k", "tmpfs", mountPoint], { stdio: "ignore" });
    mounted = true;
  } catch {
    mounted = false;
  }
});
afterAll(() => {
  if (mounted) execFileSync("umount", ["-l", mountPoint], { stdio: "ignore" });
  rmSync(mountPoint, { recursive: true, force: true });
});


function setup(overflow: OverflowPolicy, dir: string) {
  const lines: string[] = [];
  diag.setLogger({ error: (m) => void lines.push(`E ${m}`), warn: (m) => void lines.push(`W ${m}`), info: () => undefined, debug: () => undefined, verbose: () => undefined }, DiagLogLevel.WARN);
  const exporter = new GateExporter();
  const processor = new DurableLogRecordProcessor({
    exporter, directory: join(mountPoint, dir), overflow, segmentBytes: 64 * 1024, fsync: "never",
    retryInitialDelayMillis: 20, retryMaxDelayMillis: 50, scheduledDelayMillis: 5, flushTimeoutMillis: 5000, shutdownTimeoutMillis: 500,
  });
  const provider = new LoggerProvider({ processors: [processor] });
  return { lines, exporter, processor, provider, audit: new AuditLogger({ loggerProvider: provider }) };
}

const big = "x".repeat(400);

describe("disk full (ENOSPC)", () => {
  it("drop-oldest: oldest segments make room; one diag error and one overflow record per episode, and the books balance", async ({ skip }) => {
    if (!mounted) skip();
    const { lines, exporter, processor, provider, audit } = setup("drop-oldest", "a");
    for (let i = 0; i < 2000; i++) await audit.record({ id: `d${i}`, action: "sign-in:email", outcome: "success", userId: "u", metadata: { big } });
    const episodes = lines.filter((l) => /the disk is full/.test(l));
    const health = processor.health();
    expect(health.totals.dropped).toBeGreaterThan(100);
    expect(episodes.length).toBeGreaterThan(0);
    expect(episodes.length).toBeLessThan(health.totals.dropped / 10); // per episode, not per record
    exporter.open = true;
    await processor.forceFlush();
    const overflow = exporter.records().filter((r) => r.eventName === "audit.spool.overflow");
    // an overflow record dropped in a later episode passes its count on to that episode's record
    expect(overflow.length).toBeGreaterThan(0);
    expect(overflow.length).toBeLessThanOrEqual(episodes.length);
    expect(overflow.every((r) => r.attributes["audit.spool.reason"] === "disk_full" && r.attributes["audit.severity"] === "critical")).toBe(true);
    const reported = overflow.reduce((n, r) => n + Number(r.attributes["audit.spool.dropped_records"]), 0);
    const delivered = exporter.records().filter((r) => r.eventName !== "audit.spool.overflow").length;
    expect(delivered + reported).toBe(2000);
    await provider.shutdown();
    diag.disable();
  }, 60_000);

  it("reject: the audited call gets SpoolFullError, one diag error for the episode, one overflow record when space is back", async ({ skip }) => {
    if (!mounted) skip();
    const { lines, exporter, processor, provider, audit } = setup("reject", "b");
    let refused = 0;
    let accepted = 0;
    for (let i = 0; i < 1500; i++) {
      try {
        await audit.record({ id: `r${i}`, action: "sign-in:email", outcome: "success", userId: "u", metadata: { big } });
        accepted++;
      } catch (error) {
        expect(error).toBeInstanceOf(SpoolFullError);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(100);
    expect(lines.filter((l) => /the disk is full/.test(l))).toHaveLength(1);
    exporter.open = true;
    await processor.forceFlush();
    await audit.record({ id: "after", action: "sign-out", outcome: "success", userId: "u" });
    await processor.forceFlush();
    const overflow = exporter.records().filter((r) => r.eventName === "audit.spool.overflow");
    expect(overflow).toHaveLength(1);
    expect(overflow[0].attributes["audit.spool.dropped_records"]).toBe(refused);
    expect(exporter.records().filter((r) => r.eventName !== "audit.spool.overflow")).toHaveLength(accepted + 1);
    await provider.shutdown();
    diag.disable();
  }, 60_000);
});
