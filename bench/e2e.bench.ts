/**
 * `npm run bench:e2e`: sustained end-to-end throughput, app → collector → Loki, and loss.
 *
 * Emits N audit records (default 100,000; E2E_BENCH_RECORDS) through the full app pipeline —
 * setupAudit with RedactionProcessor, IntegrityProcessor, BatchLogRecordProcessor, OTLP/HTTP
 * (JSON) — to our collector (otelcol.loki.yaml, persistent queue) and Loki, all on this machine,
 * and measures from the first emit until Loki's `count_over_time` sees all N. Then reads every
 * entry back, counts distinct audit.id (lost = N − distinct) and verifies the chain from Loki.
 *
 * The SDK's BatchLogRecordProcessor drops records silently when its queue (default 2048) is full;
 * here its maxQueueSize holds the whole run, so the figure measures the pipeline, not that queue.
 * Starts its own Loki + collector (collector/.cache/bench-run, free ports) and stops them by PID.
 * Skips (exit 0) when the binaries are not built.
 */
import { existsSync, rmSync } from "node:fs";
import { OTLPLogExporter } from "@opentelemetry/exporter-logs-otlp-http";
import { BatchLogRecordProcessor } from "@opentelemetry/sdk-logs";
import { IntegrityProcessor, RedactionProcessor, setupAudit } from "../src/index.js";
import { verifyRecords } from "../src/verify/verify.js";
import { countEntries, nowNanos, queryRange, recordFromLokiEntry } from "../src/store/loki.js";
import type { OtlpFlatRecord } from "../src/verify/otlp.js";
import { COLLECTOR_DIR, lokiUrl, otlpLogsUrl, runScript, stackPorts, type StackEnv } from "../test/e2e/helpers/stack.js";
import { printTable, writeFigures } from "./lib.js";

const N = Number(process.env.E2E_BENCH_RECORDS ?? 100_000);
const KEY = "bench-e2e-chain-key";
const DEADLINE_MS = 5 * 60_000;

if (!existsSync(`${COLLECTOR_DIR}bin/otelcol-auth-audit`) || !existsSync(`${COLLECTOR_DIR}bin/loki`)) {
  console.log("e2e bench skipped: collector/bin is empty (run collector/scripts/build.sh)");
  process.exit(0);
}

const stack: StackEnv = { RUN_DIR: `${COLLECTOR_DIR}.cache/bench-run`, OTELCOL_CONFIG: process.env.E2E_BENCH_CONFIG ?? `${COLLECTOR_DIR}otelcol.loki.yaml`, ...(await stackPorts()) };
await runScript("stop.sh", ["all"], stack).catch(() => undefined);
rmSync(stack.RUN_DIR, { recursive: true, force: true });
await runScript("start.sh", ["all"], stack);
try {
  const loki = { url: lokiUrl(stack) };
  const service = `bench-e2e-${Date.now().toString(36)}`;
  const selector = `{audit_stream="audit", service_name="${service}"}`;
  const integrity = new IntegrityProcessor({ key: KEY, checkpointIntervalMs: 0, checkpointEvery: 0 });
  const { provider, audit, shutdown } = setupAudit({
    serviceName: service,
    global: false,
    redaction: false,
    integrity: false,
    processors: [
      new RedactionProcessor(),
      integrity,
      new BatchLogRecordProcessor({
        exporter: new OTLPLogExporter({ url: otlpLogsUrl(stack) }),
        maxQueueSize: N + 1024,
        maxExportBatchSize: Number(process.env.E2E_BENCH_BATCH ?? 2048),
        scheduledDelayMillis: 50,
      }),
    ],
  });
  integrity.bind(provider);

  const start = nowNanos();
  const t0 = performance.now();
  let lastId = "";
  for (let i = 0; i < N; i++) {
    const event = await audit.record({
      action: i % 4 === 0 ? "sign-in:email" : "sign-out",
      outcome: i % 8 === 0 ? "failure" : "success",
      userId: i % 8 === 0 ? null : `user-${i % 5000}`,
      ipAddress: "203.0.113.7",
      userAgent: "bench/1.0",
      method: "POST",
      path: "/sign-in/email",
      statusCode: i % 8 === 0 ? 401 : 200,
      ...(i % 8 === 0 ? { error: "INVALID_EMAIL_OR_PASSWORD" } : {}),
    });
    lastId = event!.id;
    // yield now and then so the batch processor's timer and the exporter's sockets run
    if (i % 2000 === 1999) await new Promise((r) => setImmediate(r));
  }
  const emitMs = performance.now() - t0;
  const lastNs = nowNanos();
  await provider.forceFlush();
  const flushedMs = performance.now() - t0;

  // Arrival: a count over everything costs Loki a scan of all entries, which would slow the
  // ingestion it measures; so first wait (cheaply) for the last record, then count all.
  let seen = 0;
  let arrivedMs = NaN;
  const near = { start: lastNs - 5_000_000_000n, end: lastNs + 5_000_000_000n };
  while (performance.now() - t0 < DEADLINE_MS) {
    const probe = await countEntries(loki, `${selector} | audit_id="${lastId}"`, near.start, near.end);
    if (probe > 0) {
      seen = await countEntries(loki, selector, start - 60_000_000_000n, nowNanos() + 1n);
      if (seen >= N) {
        arrivedMs = performance.now() - t0;
        break;
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  if (seen < N) seen = await countEntries(loki, selector, start - 60_000_000_000n, nowNanos() + 1n);

  // every entry back: distinct ids, and the chain verified from what Loki holds
  const ids = new Set<string>();
  const records: OtlpFlatRecord[] = [];
  const readStart = performance.now();
  for await (const page of queryRange(loki, { query: selector, start: start - 60_000_000_000n, end: nowNanos() + 1n })) {
    for (const entry of page) {
      if (entry.metadata.audit_id) ids.add(entry.metadata.audit_id);
      records.push(recordFromLokiEntry(entry));
    }
  }
  const readMs = performance.now() - readStart;
  const verified = verifyRecords(records, { key: KEY });
  const lost = N - ids.size;
  const perSecond = Number.isFinite(arrivedMs) ? Math.round(N / (arrivedMs / 1000)) : 0;

  printTable([
    { step: "emit (app, in-process)", ms: Math.round(emitMs), "records/s": Math.round(N / (emitMs / 1000)) },
    { step: "flushed to the collector", ms: Math.round(flushedMs), "records/s": Math.round(N / (flushedMs / 1000)) },
    { step: "all queryable in Loki", ms: Math.round(arrivedMs), "records/s": perSecond },
    { step: "read back (query_range pages)", ms: Math.round(readMs), "records/s": Math.round(records.length / (readMs / 1000)) },
  ]);
  console.log(`records: ${N} emitted, ${seen} counted by Loki, ${ids.size} distinct audit.id read back, lost ${lost}; chain from Loki: ${verified.ok ? "OK" : "FAILED"} (${verified.records} records)`);
  writeFigures({
    "e2e.records_per_s": { value: perSecond, unit: "records/s (app → collector → Loki, queryable)" },
    "e2e.lost": { value: lost, unit: `records of ${N}` },
  });
  await shutdown();
  if (lost !== 0 || !verified.ok || !Number.isFinite(arrivedMs)) process.exitCode = 1;
} finally {
  await runScript("stop.sh", ["all"], stack).catch((e: Error) => console.error(e.message));
}
