/**
 * `verify` throughput on a large log: generates VERIFY_RECORDS audit records (default 1,000,000;
 * the report's figure uses 10,000,000) through the real IntegrityProcessor (signed checkpoints
 * every 1000 records) into a temporary OTLP JSON-lines
 * file, written in batches of 512 records (memory stays flat), then verifies the file with the
 * parallel verifier (worker threads) and, for logs up to 250,000 records (it holds the whole file in memory), with the exact
 * single-thread verifier for comparison. Peak RSS is reported beside the rate.
 *   VERIFY_RECORDS=10000000 npm run bench -- verify
 */
import { JsonLogsSerializer } from "@opentelemetry/otlp-transformer";
import { LoggerProvider, type LogRecordProcessor, type ReadableLogRecord } from "@opentelemetry/sdk-logs";
import { generateKeyPairSync } from "node:crypto";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { IntegrityProcessor, readOtlpJson, SCOPE_NAME, verifyRecords, VERSION } from "../src/index.js";
import { verifyFilesParallel } from "../src/verify/parallel.js";
import { printTable, round, writeFigures } from "./lib.js";

const N = Number(process.env.VERIFY_RECORDS ?? 1_000_000);
const KEY = "bench-verify-key-0123456789";
const { privateKey, publicKey } = generateKeyPairSync("ed25519");
const dir = mkdtempSync(join(tmpdir(), "otel-auth-audit-bench-verify-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
// VERIFY_FILE keeps the generated log at that path (for profiling)
const file = process.env.VERIFY_FILE ?? join(dir, "audit.jsonl");

function generate(): number {
  const fd = openSync(file, "w");
  let batch: ReadableLogRecord[] = [];
  const newline = Buffer.from("\n");
  const flush = () => {
    if (batch.length === 0) return;
    writeSync(fd, JsonLogsSerializer.serializeRequest(batch)!);
    writeSync(fd, newline);
    batch = [];
  };
  const collect: LogRecordProcessor = {
    onEmit: (r) => {
      batch.push(r);
      if (batch.length === 512) flush();
    },
    forceFlush: async () => {},
    shutdown: async () => {},
  };
  const integrity = new IntegrityProcessor({ key: KEY, signingKey: privateKey, checkpointIntervalMs: 0 });
  const provider = new LoggerProvider({ processors: [integrity, collect] });
  integrity.bind(provider);
  const logger = provider.getLogger(SCOPE_NAME, VERSION);
  const t0 = Date.now();
  for (let i = 0; i < N - 1; i++) {
    logger.emit({
      eventName: "auth.sign_in.email",
      severityNumber: 10,
      severityText: "INFO",
      body: "sign-in:email success",
      attributes: {
        "audit.action": "sign-in:email",
        "audit.outcome": "success",
        "audit.severity": "medium",
        "audit.id": `0190f0e0-0000-7000-8000-${String(i).padStart(12, "0")}`,
        "user.id": `user_${i % 5000}`,
        "session.id": `sess_${i}`,
        "client.address": "203.0.113.9",
        "user_agent.original": "Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0",
        "http.request.method": "POST",
        "url.path": "/sign-in/email",
        "http.response.status_code": 200,
      },
    });
    if (i % 100_000 === 0 && i) process.stderr.write(`\rgenerating ${i.toLocaleString("en")}/${N.toLocaleString("en")}`);
  }
  integrity.close(); // the last record: the final checkpoint
  flush();
  closeSync(fd);
  process.stderr.write("\r\x1b[K");
  console.log(`generated ${N.toLocaleString("en")} records (${(statSync(file).size / 2 ** 20).toFixed(0)} MiB) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return statSync(file).size;
}

const bytes = generate();
const rss0 = process.memoryUsage().rss;
let peak = rss0;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
const workers = Number(process.env.VERIFY_WORKERS ?? availableParallelism());
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
const result = await verifyFilesParallel([file], { key: KEY, publicKey, requireClosed: true, workers });
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const cpu = process.cpuUsage(cpu0);
// CPU of every thread of the process (main + workers) per record: what the rate is on a quiet machine
const cpuPerRecord = (cpu.user + cpu.system) / N;
clearInterval(sampler);
if (!result?.ok || result.records !== N) throw new Error(`the parallel verifier did not prove the generated log: ${JSON.stringify(result)?.slice(0, 300)}`);
const rate = Math.round(N / seconds);

let exact: { rate: number; seconds: number } | undefined;
if (N <= 250_000) {
  const t1 = process.hrtime.bigint();
  const r = verifyRecords(readOtlpJson(readFileSync(file, "utf8")), { key: KEY, publicKey, requireClosed: true });
  const s = Number(process.hrtime.bigint() - t1) / 1e9;
  if (!r.ok) throw new Error("the exact verifier did not prove the generated log");
  exact = { rate: Math.round(N / s), seconds: s };
}

printTable([
  { verifier: `parallel (${workers} workers + main)`, records: N, "seconds": seconds.toFixed(1), "records/s": rate.toLocaleString("en"), "peak RSS MiB": ((peak) / 2 ** 20).toFixed(0), "file MiB": (bytes / 2 ** 20).toFixed(0) },
  ...(exact ? [{ verifier: "exact, one thread (whole file in memory)", records: N, seconds: exact.seconds.toFixed(1), "records/s": exact.rate.toLocaleString("en"), "peak RSS MiB": "-", "file MiB": (bytes / 2 ** 20).toFixed(0) }] : []),
]);
console.log(`CPU (all threads) ${cpuPerRecord.toFixed(2)} µs/record: on ${availableParallelism()} idle cores at most ${Math.round((availableParallelism() * 1e6) / cpuPerRecord).toLocaleString("en")} records/s`);
console.log(`verify.records_per_s = ${rate.toLocaleString("en")} (goal ≥ 250,000 on 2 cores: ${rate >= 250_000 ? "met" : "not met"})`);
writeFigures({
  "verify.records_per_s": { value: rate, unit: "records/s", records: N, workers, cpu_us_per_record: round(cpuPerRecord, 2), cores: availableParallelism(), peak_rss_mib: round(peak / 2 ** 20, 0), file_mib: round(bytes / 2 ** 20, 0), ...(exact ? { baseline: exact.rate, ratio: round(rate / exact.rate, 3) } : {}) },
});
