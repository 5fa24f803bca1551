/**
 * The durable path against the bare SDK path (BatchLogRecordProcessor → OTLP/HTTP), same run, same
 * local receiver: records lost in a 200,000-record synchronous burst, and delivered records/s.
 * Run: npx tsx bench/durable.bench.ts   (BURST=200000 N=50000 ROUNDS=3 to change sizes)
 */
import { OTLPLogExporter } from "@opentelemetry/exporter-logs-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordProcessor } from "@opentelemetry/sdk-logs";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuditLogger, DurableLogRecordProcessor } from "../src/index.js";
import { startReceiver, type OtlpReceiver } from "../test/helpers/otlp-receiver.js";
import { interleave, median, printTable, writeFigures } from "./lib.js";

const BURST = Number(process.env.BURST ?? 200_000);
const N = Number(process.env.N ?? 50_000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const resource = resourceFromAttributes({ "service.name": "bench" });

const receiver = await startReceiver();
const dirs: string[] = [];

function bare(maxQueueSize?: number): LogRecordProcessor {
  return new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: receiver.url }), ...(maxQueueSize && { maxQueueSize }) });
}

function durable(): LogRecordProcessor {
  const directory = mkdtempSync(join(tmpdir(), "otel-auth-audit-bench-"));
  dirs.push(directory);
  return new DurableLogRecordProcessor({ exporter: new OTLPLogExporter({ url: receiver.url }), directory, flushTimeoutMillis: 300_000 });
}

/** Emits `count` audit records synchronously; returns their ids. */
function burst(processor: LogRecordProcessor, prefix: string, count: number): { provider: LoggerProvider; ids: string[] } {
  const provider = new LoggerProvider({ resource, processors: [processor] });
  const audit = new AuditLogger({ loggerProvider: provider });
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = `${prefix}-${i}`;
    ids.push(id);
    void audit.record({ id, action: "sign-in:email", outcome: "success", userId: `user-${i % 1000}`, ipAddress: "203.0.113.7", userAgent: "bench/1.0", method: "POST", path: "/api/auth/sign-in/email", statusCode: 200 });
  }
  return { provider, ids };
}

async function settle(rx: OtlpReceiver, ids: string[], timeoutMs: number): Promise<number> {
  await rx.waitFor(ids, timeoutMs);
  return ids.filter((id) => rx.ids.has(id)).length;
}

// 1. Burst loss: the default bare pipeline, then the durable one.
const bareBurst = burst(bare(), "bare-burst", BURST);
await bareBurst.provider.forceFlush().catch(() => undefined);
await new Promise((r) => setTimeout(r, 1000));
const bareDelivered = await settle(receiver, bareBurst.ids, 5_000);
await bareBurst.provider.shutdown();

const t0 = performance.now();
const durableBurst = burst(durable(), "durable-burst", BURST);
const emitMs = performance.now() - t0;
await durableBurst.provider.forceFlush();
const durableDelivered = await settle(receiver, durableBurst.ids, 120_000);
const burstMs = performance.now() - t0;
await durableBurst.provider.shutdown();

// 2. Throughput: time until all N records are at the receiver; bare gets a queue large enough to drop nothing.
const rates: Record<"bare" | "durable", number[]> = { bare: [], durable: [] };
for (let round = 0; round < ROUNDS; round++) {
  for (const variant of ["bare", "durable"] as const) {
    const start = performance.now();
    const run = burst(variant === "bare" ? bare(N) : durable(), `${variant}-${round}`, N);
    await run.provider.forceFlush().catch(() => undefined);
    const got = await settle(receiver, run.ids, 120_000);
    const seconds = (performance.now() - start) / 1000;
    rates[variant].push(got / seconds);
    await run.provider.shutdown();
  }
}
// 3. The cost on the request path: one emit (AuditLogger → onEmit), durable vs bare Batch, interleaved.
const noop = { export: (_r: unknown, done: (r: { code: number }) => void) => done({ code: 0 }), shutdown: async () => undefined, forceFlush: async () => undefined };
const emitters = Object.fromEntries(
  (["bare", "durable"] as const).map((variant) => {
    const directory = mkdtempSync(join(tmpdir(), "otel-auth-audit-bench-"));
    dirs.push(directory);
    const processor = variant === "bare"
      ? new BatchLogRecordProcessor({ exporter: noop as never, maxQueueSize: 65_536 }) // room for every round: no drops
      : new DurableLogRecordProcessor({ exporter: noop as never, directory });
    const audit = new AuditLogger({ loggerProvider: new LoggerProvider({ resource, processors: [processor] }) });
    let i = 0;
    return [variant, async (ops: number) => {
      for (let k = 0; k < ops; k++) void audit.record({ id: `emit-${i++}`, action: "sign-in:email", outcome: "success", userId: "user-1", ipAddress: "203.0.113.7" });
    }];
  }),
);
const emitStats = await interleave(emitters, { rounds: 21, ops: 2000 });
const emitUs = { bare: emitStats.bare.wall.median, durable: emitStats.durable.wall.median };

await receiver.close();
for (const dir of dirs) rmSync(dir, { recursive: true, force: true });

const durableRate = median(rates.durable);
const bareRate = median(rates.bare);
printTable([
  { figure: "burst lost (of " + BURST + ")", bare: BURST - bareDelivered, durable: BURST - durableDelivered },
  { figure: "burst: emit µs/record (durable)", bare: "-", durable: ((emitMs * 1000) / BURST).toFixed(2) },
  { figure: "burst: all delivered after s (durable)", bare: "-", durable: (burstMs / 1000).toFixed(1) },
  { figure: `records/s, ${N} records, median of ${ROUNDS}`, bare: Math.round(bareRate), durable: Math.round(durableRate) },
  { figure: "emit µs/record (AuditLogger.record → onEmit), median", bare: emitUs.bare.toFixed(2), durable: emitUs.durable.toFixed(2) },
]);
writeFigures({
  "durable.burst_lost": { value: BURST - durableDelivered, unit: "records", baseline: BURST - bareDelivered },
  "bare.burst_lost": { value: BURST - bareDelivered, unit: "records" },
  "durable.records_per_s": { value: Math.round(durableRate), unit: "records/s", baseline: Math.round(bareRate) },
  "durable.emit_us": { value: Number(emitUs.durable.toFixed(2)), unit: "µs/record", baseline: Number(emitUs.bare.toFixed(2)), ratio: Number((emitUs.durable / emitUs.bare).toFixed(2)) },
  "durable.vs_bare_throughput": { value: Number((durableRate / bareRate).toFixed(3)), unit: "ratio", baseline: 1, ratio: Number((durableRate / bareRate).toFixed(3)) },
});
