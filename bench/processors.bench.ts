/**
 * Per-record cost of the RedactionProcessor and of the IntegrityProcessor, each against bare
 * `logger.emit` through the same SDK (Batch processor → no-op exporter), interleaved; then
 * `verifyRecords` throughput on 1,000,000 chained records generated in memory.
 *   npx tsx bench/processors.bench.ts
 */
import { ExportResultCode } from "@opentelemetry/core";
import {
  BatchLogRecordProcessor,
  LoggerProvider,
  type LogRecordExporter,
  type LogRecordProcessor,
  type ReadableLogRecord,
} from "@opentelemetry/sdk-logs";
import type { LogRecord } from "@opentelemetry/api";
import { IntegrityProcessor, RedactionProcessor } from "../src/index.js";
import { SCOPE_NAME, VERSION } from "../src/version.js";
import { toAttributes } from "../src/attributes.js";
import { verifyRecords } from "../src/verify/verify.js";
import { interleave, printTable, writeFigures } from "./lib.js";

const KEY = "bench-key-0123456789abcdef";

const noopExporter: LogRecordExporter = {
  export: (_records, done) => done({ code: ExportResultCode.SUCCESS }),
  forceFlush: async () => {},
  shutdown: async () => {},
};

/** A typical sign-in record: the attributes AuditLogger builds, with some metadata to redact. */
function auditRecord(i: number): LogRecord {
  return {
    eventName: "auth.sign_in.email",
    timestamp: Date.now(),
    severityNumber: 10,
    severityText: "INFO",
    body: "sign-in:email success",
    attributes: toAttributes({
      action: "sign-in:email",
      outcome: "success",
      severity: "medium",
      id: `0190f0e0-0000-7000-8000-${String(i).padStart(12, "0")}`,
      userId: "user_8f2c1b",
      sessionId: "sess_41d0aa",
      ipAddress: "203.0.113.9",
      userAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36",
      method: "POST",
      path: "/api/auth/sign-in/email",
      statusCode: 200,
      metadata: { body: { email: "jane.doe@example.com", password: "hunter2", rememberMe: true }, provider: "credential" },
      time: new Date(),
    }),
  };
}

function pipeline(processors: LogRecordProcessor[]) {
  const provider = new LoggerProvider({ processors: [...processors, new BatchLogRecordProcessor({ exporter: noopExporter, maxQueueSize: 100_000 })] });
  return { provider, logger: provider.getLogger(SCOPE_NAME, VERSION) };
}

async function emitBench() {
  const records = Array.from({ length: 1000 }, (_, i) => auditRecord(i));
  const bare = pipeline([]);
  const redacted = pipeline([new RedactionProcessor()]);
  const integrity = new IntegrityProcessor({ key: KEY, checkpointIntervalMs: 0 });
  const chained = pipeline([integrity]);
  integrity.bind(chained.provider);
  const run = (p: ReturnType<typeof pipeline>) => async (ops: number) => {
    for (let i = 0; i < ops; i++) p.logger.emit(records[i % records.length]);
    await p.provider.forceFlush();
  };
  const us = await interleave({ bare: run(bare), redaction: run(redacted), integrity: run(chained) }, { rounds: 25, ops: 2000, warmup: 5 });
  await Promise.all([bare.provider.shutdown(), redacted.provider.shutdown(), chained.provider.shutdown()]);
  return us;
}

/** 1,000,000 chained records, kept as the SDK hands them to exporters. */
function generate(count: number): ReadableLogRecord[] {
  const out: ReadableLogRecord[] = [];
  const integrity = new IntegrityProcessor({ key: KEY, checkpointIntervalMs: 0 });
  const collect: LogRecordProcessor = { onEmit: (r) => void out.push(r), forceFlush: async () => {}, shutdown: async () => {} };
  const provider = new LoggerProvider({ processors: [integrity, collect] });
  integrity.bind(provider);
  const logger = provider.getLogger(SCOPE_NAME, VERSION);
  const base = auditRecord(0);
  for (let i = 0; i < count; i++) {
    logger.emit({ ...base, attributes: { ...base.attributes, "audit.id": `id-${i}` } });
    if (i % 1000 === 999) integrity.checkpoint("count");
  }
  integrity.close();
  return out;
}

const emit = await emitBench();
const n = 1_000_000;
const records = generate(n);
const runs: number[] = [];
let ok = true;
for (let i = 0; i < 3; i++) {
  const t0 = process.hrtime.bigint();
  const result = verifyRecords(records, { key: KEY, requireClosed: true });
  runs.push(Number(process.hrtime.bigint() - t0) / 1e9);
  ok &&= result.ok;
}
const seconds = runs.sort((a, b) => a - b)[1];
const perSecond = Math.round(records.length / seconds);
if (!ok) throw new Error("the generated log did not verify");

printTable([
  { figure: "bare emit (Batch → no-op)", value: emit.bare.toFixed(2), unit: "µs/record" },
  { figure: "redaction + emit", value: emit.redaction.toFixed(2), unit: "µs/record" },
  { figure: "integrity + emit", value: emit.integrity.toFixed(2), unit: "µs/record" },
  { figure: "redaction.vs_bare", value: (emit.redaction / emit.bare).toFixed(2), unit: "ratio" },
  { figure: "integrity.vs_bare", value: (emit.integrity / emit.bare).toFixed(2), unit: "ratio" },
  { figure: "verify.records_per_s", value: perSecond.toLocaleString("en"), unit: `records/s (${records.length.toLocaleString("en")} records, median of 3)` },
]);
writeFigures({
  "redaction.vs_bare": { value: emit.redaction, unit: "µs/record", baseline: emit.bare, ratio: emit.redaction / emit.bare },
  "integrity.vs_bare": { value: emit.integrity, unit: "µs/record", baseline: emit.bare, ratio: emit.integrity / emit.bare },
  "verify.records_per_s": { value: perSecond, unit: "records/s" },
});
