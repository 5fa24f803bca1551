import { diag, DiagLogLevel, TraceFlags, createTraceState, type DiagLogger } from "@opentelemetry/api";
import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import { OTLPLogExporter } from "@opentelemetry/exporter-logs-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  type LogRecordExporter,
  type ReadableLogRecord,
} from "@opentelemetry/sdk-logs";
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import {
  AuditLogger,
  DurableLogRecordProcessor,
  SpoolFullError,
  SpoolLockedError,
  type DurableLogRecordProcessorOptions,
} from "otel-auth-audit";
import { attributeOf, type OtlpReceiver } from "./helpers/otlp-receiver.js";
import { useCleanup } from "./helpers/cleanup.js";

const { cleanup, tempDir, receiver } = useCleanup();



/** An exporter that fails while `failing` is set, else hands records to an in-memory exporter. */
class SwitchExporter implements LogRecordExporter {
  readonly memory = new InMemoryLogRecordExporter();
  failing = true;
  error: Error & { retryAfterMillis?: number } = new Error("collector down");
  calls: number[] = [];
  export(records: ReadableLogRecord[], done: (result: ExportResult) => void): void {
    this.calls.push(Date.now());
    if (this.failing) done({ code: ExportResultCode.FAILED, error: this.error });
    else this.memory.export(records, done);
  }
  shutdown = async () => undefined;
  forceFlush = async () => undefined;
  ids = () => this.memory.getFinishedLogRecords().map((r) => r.attributes["audit.id"] as string);
}

function pipeline(options: Partial<DurableLogRecordProcessorOptions> & { exporter: LogRecordExporter }) {
  const processor = new DurableLogRecordProcessor({ directory: tempDir(), flushTimeoutMillis: 5_000, ...options });
  const provider = new LoggerProvider({ resource: resourceFromAttributes({ "service.name": "durable-test" }), processors: [processor] });
  cleanup.push(() => provider.shutdown());
  const audit = new AuditLogger({ loggerProvider: provider });
  let n = 0;
  const emit = (count: number, prefix = "rec"): string[] =>
    Array.from({ length: count }, () => {
      const id = `${prefix}-${n++}`;
      void audit.record({ id, action: "sign-in:email", outcome: "success", userId: "user-1" });
      return id;
    });
  return { processor, provider, audit, emit };
}

function otlp(rx: OtlpReceiver, timeoutMillis = 1000): OTLPLogExporter {
  return new OTLPLogExporter({ url: rx.url, timeoutMillis });
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];

const fast = { retryInitialDelayMillis: 50, retryMaxDelayMillis: 500, scheduledDelayMillis: 10 };

describe("spool serialisation", () => {
  it("replays records after a restart as ReadableLogRecords with every field intact", async () => {
    const directory = tempDir();
    const down = new SwitchExporter();
    const first = new DurableLogRecordProcessor({ exporter: down, directory, flushTimeoutMillis: 100 });
    const resource = resourceFromAttributes({ "service.name": "svc", "deployment.environment.name": "test" }, { schemaUrl: "https://opentelemetry.io/schemas/1.30.0" });
    const provider = new LoggerProvider({ resource, processors: [first] });
    const logger = provider.getLogger("otel-auth-audit", "0.1.0", { schemaUrl: "https://example.com/scope" });
    const spanContext = {
      traceId: "0af7651916cd43dd8448eb211c80319c",
      spanId: "b7ad6b7169203331",
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
      traceState: createTraceState("vendor=value"),
    };
    const { trace, context } = await import("@opentelemetry/api");
    logger.emit({
      eventName: "auth.sign_in.email",
      timestamp: new Date("2026-11-01T10:00:00.123Z"),
      severityNumber: 13,
      severityText: "WARN",
      body: { text: "hello", bytes: new Uint8Array([0, 1, 254, 255]), nested: [1, "two", true] },
      attributes: { "audit.id": "a1", n: 42, f: 1.5, b: false, list: ["x", "y"] },
      context: trace.setSpanContext(context.active(), spanContext),
    });
    logger.emit({ body: "plain", attributes: { "audit.id": "a2" } });
    await provider.shutdown();
    expect(readdirSync(directory).some((f) => f.endsWith(".seg"))).toBe(true);

    const memory = new InMemoryLogRecordExporter();
    const second = new DurableLogRecordProcessor({ exporter: memory, directory });
    expect(second.health().recoveredRecords).toBe(2);
    await second.forceFlush();
    const [a, b] = memory.getFinishedLogRecords();
    await second.shutdown();
    expect(a.hrTime).toEqual([Math.floor(Date.parse("2026-11-01T10:00:00Z") / 1000), 123_000_000]);
    expect(a.hrTimeObserved[0]).toBeGreaterThan(0);
    expect(a.eventName).toBe("auth.sign_in.email");
    expect(a.severityNumber).toBe(13);
    expect(a.severityText).toBe("WARN");
    expect(a.body).toEqual({ text: "hello", bytes: new Uint8Array([0, 1, 254, 255]), nested: [1, "two", true] });
    expect(a.attributes).toEqual({ "audit.id": "a1", n: 42, f: 1.5, b: false, list: ["x", "y"] });
    expect(a.droppedAttributesCount).toBe(0);
    expect(a.spanContext).toMatchObject({ traceId: spanContext.traceId, spanId: spanContext.spanId, traceFlags: 1, isRemote: true });
    expect(a.spanContext?.traceState?.get("vendor")).toBe("value");
    expect(a.resource.attributes).toEqual(resource.attributes);
    expect(a.resource.schemaUrl).toBe("https://opentelemetry.io/schemas/1.30.0");
    expect(a.instrumentationScope).toEqual({ name: "otel-auth-audit", version: "0.1.0", schemaUrl: "https://example.com/scope" });
    // One object per resource and scope: OTLP exporters group records by their identity.
    expect(b.resource).toBe(a.resource);
    expect(b.instrumentationScope).toBe(a.instrumentationScope);
    expect(b.body).toBe("plain");
    expect(b.spanContext).toBeUndefined();
    expect(readdirSync(directory).filter((f) => f.endsWith(".seg"))).toEqual([]);
  });

  it("keeps the order of records across segments and restarts", async () => {
    const directory = tempDir();
    const down = new SwitchExporter();
    const one = pipeline({ exporter: down, directory, segmentBytes: 64 * 1024, flushTimeoutMillis: 50 });
    const ids = one.emit(2000);
    await one.provider.shutdown();
    expect(readdirSync(directory).filter((f) => f.endsWith(".seg")).length).toBeGreaterThan(3);
    const up = new SwitchExporter();
    up.failing = false;
    const two = pipeline({ exporter: up, directory, segmentBytes: 64 * 1024 });
    await two.processor.forceFlush();
    expect(up.ids()).toEqual(ids);
  });

  it("after a crash mid-write, a torn frame at the end of a segment is cut off and reported; the records before it replay", async () => {
    const directory = tempDir();
    const down = new SwitchExporter();
    const one = pipeline({ exporter: down, directory, flushTimeoutMillis: 50 });
    const ids = one.emit(50);
    await one.provider.shutdown();
    const [segment] = readdirSync(directory).filter((f) => f.endsWith(".seg"));
    const { appendFileSync } = await import("node:fs");
    appendFileSync(join(directory, segment), Buffer.from([200, 0, 0, 0, 1, 2, 3, 4, 1, 91, 34])); // header + 2 of 200 bytes
    const warnings: string[] = [];
    diag.setLogger({ error: () => undefined, warn: (m: string) => void warnings.push(m), info: () => undefined, debug: () => undefined, verbose: () => undefined }, DiagLogLevel.WARN);
    cleanup.push(() => diag.disable());
    const up = new SwitchExporter();
    up.failing = false;
    const two = pipeline({ exporter: up, directory });
    await two.processor.forceFlush();
    expect(up.ids()).toEqual(ids);
    expect(warnings.some((w) => /incomplete frame/.test(w))).toBe(true);
  });

  it("keeps order when part of a backlog is served from memory and the rest from disk", async () => {
    const exporter = new SwitchExporter();
    const { processor, emit } = pipeline({ exporter, segmentBytes: 256 * 1024, ...fast });
    const ids = emit(6000); // more than the in-memory tail holds
    await new Promise((r) => setTimeout(r, 100));
    ids.push(...emit(3000));
    exporter.failing = false;
    await processor.forceFlush();
    ids.push(...emit(3000)); // after the reader caught up: served from memory again
    await processor.forceFlush();
    expect(exporter.ids()).toEqual(ids);
  });
});

describe("faults at the collector (local OTLP/HTTP receiver)", () => {
  it("429 with Retry-After: waits as told, then delivers everything", async () => {
    const rx = await receiver();
    rx.reply = (n) => (n < 2 ? { status: 429, headers: { "retry-after": "1" } } : {});
    const { processor, emit } = pipeline({ exporter: otlp(rx, 5000), ...fast });
    const ids = emit(300);
    await processor.forceFlush();
    expect(await rx.waitFor(ids, 5000)).toBe(true);
    const [first, second, third] = rx.requests;
    expect(first.status).toBe(429);
    expect(second.at - first.at).toBeGreaterThanOrEqual(950);
    expect(third.at - second.at).toBeGreaterThanOrEqual(950);
  });

  it("500 (which the OTLP exporter never retries): retried by the durable loop until accepted", async () => {
    const rx = await receiver();
    rx.reply = (n) => (n < 3 ? { status: 500 } : {});
    const { processor, emit } = pipeline({ exporter: otlp(rx), ...fast });
    const ids = emit(500);
    await processor.forceFlush();
    expect(await rx.waitFor(ids, 5000)).toBe(true);
    const health = processor.health();
    expect(health.totals.retried).toBeGreaterThan(0);
    expect(health.consecutiveFailures).toBe(0);
    expect(health.lastError).toBeDefined();
    expect(health.spooledRecords).toBe(0);
    expect(rx.requests.filter((r) => r.status === 500)).toHaveLength(3);
  });

  it("503 for a while: delivered once the collector recovers", async () => {
    const rx = await receiver();
    const until = Date.now() + 2500;
    rx.reply = () => (Date.now() < until ? { status: 503 } : {});
    const { processor, emit } = pipeline({ exporter: otlp(rx), ...fast });
    const ids = emit(1000);
    await processor.forceFlush();
    expect(await rx.waitFor(ids, 5000)).toBe(true);
    expect(rx.requests.some((r) => r.status === 503)).toBe(true);
  });

  it("connection refused (receiver down), then up: delivered", async () => {
    const rx = await receiver();
    await rx.down();
    const { processor, emit } = pipeline({ exporter: otlp(rx, 500), ...fast });
    const ids = emit(700);
    await new Promise((r) => setTimeout(r, 1500));
    const health = processor.health();
    expect(health.spooledRecords).toBe(700);
    expect(health.lastError).toMatch(/ECONNREFUSED|retryable|refused/i);
    expect(health.oldestAgeMs).toBeGreaterThanOrEqual(1000);
    await rx.up();
    await processor.forceFlush();
    expect(await rx.waitFor(ids, 5000)).toBe(true);
    expect(processor.health().spooledRecords).toBe(0);
  });

  it("responses slower than the exporter's timeout: retried, delivered (duplicates allowed)", async () => {
    const rx = await receiver();
    rx.reply = (n) => (n < 2 ? { delayMs: 1500 } : {});
    const { processor, emit } = pipeline({ exporter: otlp(rx, 300), ...fast });
    const ids = emit(200);
    await processor.forceFlush();
    expect(await rx.waitFor(ids, 5000)).toBe(true);
    expect(processor.health().totals.retried).toBeGreaterThan(0);
  });

  it("an exporter that never calls back counts as failed after exportTimeoutMillis", async () => {
    let calls = 0;
    const memory = new InMemoryLogRecordExporter();
    const hanging: LogRecordExporter = {
      export: (records, done) => (calls++ === 0 ? undefined : memory.export(records, done)),
      shutdown: async () => undefined,
      forceFlush: async () => undefined,
    };
    const { processor, emit } = pipeline({ exporter: hanging, exportTimeoutMillis: 200, ...fast });
    emit(10);
    await processor.forceFlush();
    expect(memory.getFinishedLogRecords()).toHaveLength(10);
    expect(processor.health().lastError).toMatch(/timed out/);
  });

  it("honours a Retry-After the exporter puts on its error", async () => {
    const exporter = new SwitchExporter();
    exporter.error = Object.assign(new Error("throttled"), { retryAfterMillis: 700 });
    const { processor, emit } = pipeline({ exporter, ...fast });
    emit(5);
    await new Promise((r) => setTimeout(r, 100));
    exporter.failing = false;
    await processor.forceFlush();
    const [first, second] = exporter.calls;
    expect(second - first).toBeGreaterThanOrEqual(650);
  });

  it("backs off exponentially with jitter up to the cap, never giving up", async () => {
    const exporter = new SwitchExporter();
    const { processor, emit } = pipeline({ exporter, retryInitialDelayMillis: 20, retryMaxDelayMillis: 160, scheduledDelayMillis: 1 });
    emit(3);
    await new Promise((r) => setTimeout(r, 1500));
    const gaps = exporter.calls.slice(1).map((t, i) => t - exporter.calls[i]);
    expect(gaps.length).toBeGreaterThan(6);
    // Capped at 160 ms; the slack is for timers firing late on a loaded machine.
    expect(median(gaps.slice(-4))).toBeLessThanOrEqual(160 + 100);
    expect(Math.max(...gaps.slice(-3))).toBeGreaterThanOrEqual(75); // reached the cap's range (80–160)
    expect(processor.health()).toMatchObject({ state: "backoff", spooledRecords: 3 });
    exporter.failing = false;
    await processor.forceFlush();
    expect(exporter.ids()).toHaveLength(3);
  });
});

describe("a full spool", () => {
  function captureDiag(): string[] {
    const errors: string[] = [];
    const logger: DiagLogger = {
      error: (m: string) => void errors.push(m),
      warn: () => undefined,
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    };
    diag.setLogger(logger, DiagLogLevel.ERROR);
    cleanup.push(() => diag.disable());
    return errors;
  }

  it("drop-oldest: drops the oldest segment, says so in a critical audit.spool.overflow record and a diag error", async () => {
    const errors = captureDiag();
    const rx = await receiver();
    await rx.down();
    rx.keep = (r) => r.eventName === "audit.spool.overflow";
    const { processor, emit } = pipeline({ exporter: otlp(rx, 300), maxBytes: 256 * 1024, segmentBytes: 64 * 1024, ...fast });
    const ids = emit(4000);
    const health = processor.health();
    expect(health.spoolBytes).toBeLessThanOrEqual(256 * 1024);
    expect(health.totals.dropped).toBeGreaterThan(0);
    expect(errors.some((e) => /spool full/.test(e))).toBe(true);
    await rx.up();
    await processor.forceFlush();
    const newest = ids.slice(-500);
    expect(await rx.waitFor(newest, 5000)).toBe(true);
    // What arrived plus what was reported dropped accounts for every record.
    const delivered = ids.filter((id) => rx.ids.has(id)).length;
    const reported = rx.kept.reduce((sum, r) => sum + Number(attributeOf(r, "audit.spool.dropped_records")), 0);
    expect(delivered + reported).toBe(ids.length);
    expect(reported).toBe(processor.health().totals.dropped);
    const overflow = rx.kept[0];
    expect(overflow.severityNumber).toBe(17);
    expect(attributeOf(overflow, "audit.severity")).toBe("critical");
    expect(attributeOf(overflow, "audit.outcome")).toBe("failure");
    expect(typeof attributeOf(overflow, "audit.id")).toBe("string");
  });

  it("drop-oldest never drops the segment being exported: its records arrive, and the books still balance", async () => {
    const memory = new InMemoryLogRecordExporter();
    const held: Array<() => void> = [];
    let hold = true;
    const gate: LogRecordExporter = {
      export: (records, done) => (hold ? held.push(() => memory.export(records, done)) : memory.export(records, done)),
      shutdown: async () => undefined,
      forceFlush: async () => undefined,
    };
    const { processor, emit } = pipeline({ exporter: gate, maxBytes: 256 * 1024, segmentBytes: 64 * 1024, batchSize: 50, exportTimeoutMillis: 60_000, ...fast });
    const first = emit(100);
    await new Promise((r) => setTimeout(r, 100)); // the loop sends the first batch; it hangs
    expect(held).toHaveLength(1);
    const rest = emit(4000);
    expect(processor.health().totals.dropped).toBeGreaterThan(0);
    hold = false;
    for (const release of held) release();
    await processor.forceFlush();
    const ids = memory.getFinishedLogRecords().map((r) => r.attributes["audit.id"] as string);
    const overflow = memory.getFinishedLogRecords().filter((r) => r.eventName === "audit.spool.overflow");
    const reported = overflow.reduce((sum, r) => sum + Number(r.attributes["audit.spool.dropped_records"]), 0);
    expect(first.every((id) => ids.includes(id))).toBe(true);
    const delivered = [...first, ...rest].filter((id) => ids.includes(id)).length;
    expect(delivered + reported).toBe(first.length + rest.length);
    expect(new Set(ids).size).toBe(ids.length); // nothing sent twice
  });

  it("reject: the audited call throws SpoolFullError; everything already spooled is delivered", async () => {
    const errors = captureDiag();
    const exporter = new SwitchExporter();
    const { processor, emit, audit } = pipeline({ exporter, overflow: "reject", maxBytes: 128 * 1024, ...fast });
    const accepted: string[] = [];
    let rejected: unknown;
    for (let i = 0; i < 10_000 && !rejected; i++) {
      try {
        accepted.push(...emit(1));
      } catch (error) {
        rejected = error;
      }
    }
    expect(rejected).toBeInstanceOf(SpoolFullError);
    expect((rejected as SpoolFullError).code).toBe("AUDIT_SPOOL_FULL");
    expect(errors.some((e) => /rejecting new records/.test(e))).toBe(true);
    expect(() => audit.record({ action: "sign-out", outcome: "success", userId: "u" })).toThrow(SpoolFullError);
    expect(processor.health().totals.dropped).toBe(2);
    exporter.failing = false;
    await processor.forceFlush();
    expect(exporter.ids()).toEqual(accepted);
    // Room again: records are accepted.
    expect(() => emit(1)).not.toThrow();
  });
});

describe("lifecycle", () => {
  it("one spool directory per process: a second processor on it throws SpoolLockedError", () => {
    const directory = tempDir();
    const first = new DurableLogRecordProcessor({ exporter: new InMemoryLogRecordExporter(), directory });
    cleanup.push(() => first.shutdown());
    expect(() => new DurableLogRecordProcessor({ exporter: new InMemoryLogRecordExporter(), directory })).toThrow(SpoolLockedError);
  });

  it("without a configured directory, a second live processor takes the next free spool (workers in one cwd)", () => {
    const base = tempDir();
    vi.stubEnv("OTEL_AUTH_AUDIT_SPOOL_DIR", base);
    try {
      const first = new DurableLogRecordProcessor({ exporter: new InMemoryLogRecordExporter() });
      const second = new DurableLogRecordProcessor({ exporter: new InMemoryLogRecordExporter() });
      cleanup.push(() => rmSync(`${base}-1`, { recursive: true, force: true }), () => first.shutdown(), () => second.shutdown());
      expect(first.health().directory).toBe(base);
      expect(second.health().directory).toBe(`${base}-1`);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it("shutdown flushes, stops the loop, shuts the exporter down and releases the directory", async () => {
    const directory = tempDir();
    const exporter = new SwitchExporter();
    exporter.failing = false;
    let shut = false;
    exporter.shutdown = async () => void (shut = true);
    const { processor, emit } = pipeline({ exporter, directory, ...fast });
    emit(100);
    await processor.shutdown();
    expect(exporter.ids()).toHaveLength(100);
    expect(shut).toBe(true);
    expect(processor.health().state).toBe("stopped");
    expect(readdirSync(directory)).toEqual(["cursor"]);
    const again = new DurableLogRecordProcessor({ exporter, directory });
    await again.shutdown();
  });

  it("forceFlush is bounded by its timeout when the collector stays down; records stay spooled", async () => {
    const exporter = new SwitchExporter();
    const { processor, emit } = pipeline({ exporter, ...fast, flushTimeoutMillis: 300 });
    emit(10);
    const t0 = Date.now();
    await processor.forceFlush({ timeoutMillis: 300 });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(processor.health().spooledRecords).toBe(10);
  });

  it("reports its metrics on the otel-auth-audit meter", async () => {
    class Reader extends MetricReader {
      protected override onForceFlush = async () => undefined;
      protected override onShutdown = async () => undefined;
    }
    const reader = new Reader();
    const meterProvider = new MeterProvider({ readers: [reader] });
    const exporter = new SwitchExporter();
    const { processor, emit } = pipeline({ exporter, meterProvider, ...fast });
    emit(20);
    await new Promise((r) => setTimeout(r, 200));
    let { resourceMetrics } = await reader.collect();
    const values = () => {
      const scope = resourceMetrics.scopeMetrics.find((s) => s.scope.name === "otel-auth-audit")!;
      return Object.fromEntries(scope.metrics.map((m) => [m.descriptor.name, m.dataPoints.reduce((sum, p) => sum + Number(p.value), 0)]));
    };
    expect(values()).toMatchObject({ "audit.spool.records.spooled": 20, "audit.spool.records": 20 });
    expect(values()["audit.spool.records.retried"]).toBeGreaterThan(0);
    expect(values()["audit.spool.size"]).toBeGreaterThan(0);
    expect(values()["audit.spool.oldest_age"]).toBeGreaterThan(0);
    exporter.failing = false;
    await processor.forceFlush();
    ({ resourceMetrics } = await reader.collect());
    expect(values()).toMatchObject({ "audit.spool.records.exported": 20, "audit.spool.records": 0 });
    await meterProvider.shutdown();
  });
});
