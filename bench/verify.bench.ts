/**
 * `verify` throughput on a large log: writes VERIFY_RECORDS audit records (default 1,000,000; the
 * report's figure uses 10,000,000) of one chain with signed checkpoints every 1000 records
 * (bench/chain-log.ts) to a temporary OTLP JSON-lines file, a line of 512 records at a time
 * (memory stays flat), then verifies it with the parallel verifier (worker threads) and, for logs
 * up to 250,000 records, with the exact single-thread verifier for comparison (it holds the whole
 * file in memory). Reports records/s, CPU per record over all threads and the peak RSS.
 * The verifiers measured are the built package's (compiled with the build's tsconfig into
 * node_modules/.cache first): what `otel-auth-audit verify` runs. From the sources every worker
 * thread would load TypeScript through tsx first, about 0.15 s of CPU each that no user pays.
 *   VERIFY_RECORDS=10000000 npm run bench -- verify
 */
import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { writeChainLog } from "./chain-log.js";
import { printTable, round, writeFigures } from "./lib.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const built = join(root, "node_modules/.cache/otel-auth-audit-bench/dist");
execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", join(root, "tsconfig.build.json"), "--outDir", built], { stdio: "inherit" });
const { readOtlpJson } = (await import(pathToFileURL(join(built, "verify/otlp.js")).href)) as typeof import("../src/verify/otlp.js");
const { verifyRecords } = (await import(pathToFileURL(join(built, "verify/verify.js")).href)) as typeof import("../src/verify/verify.js");
const { verifyFilesParallel } = (await import(pathToFileURL(join(built, "verify/parallel.js")).href)) as typeof import("../src/verify/parallel.js");

const N = Number(process.env.VERIFY_RECORDS ?? 1_000_000);
const KEY = "bench-verify-key-0123456789";
const { privateKey, publicKey } = generateKeyPairSync("ed25519");
const dir = mkdtempSync(join(tmpdir(), "otel-auth-audit-bench-verify-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
// VERIFY_FILE keeps the generated log at that path (for profiling)
const file = process.env.VERIFY_FILE ?? join(dir, "audit.jsonl");

function generate(): number {
  const t0 = Date.now();
  writeChainLog(file, N, KEY, privateKey, (done) => process.stderr.write(`\rgenerating ${done.toLocaleString("en")}/${N.toLocaleString("en")}`));
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
const name = N === 1_000_000 ? "verify.records_per_s" : `verify.records_per_s_${N >= 1e6 ? `${N / 1e6}m` : `${N / 1e3}k`}`;
writeFigures({
  [name]: { value: rate, unit: "records/s", records: N, workers, cpu_us_per_record: round(cpuPerRecord, 2), cores: availableParallelism(), peak_rss_mib: round(peak / 2 ** 20, 0), file_mib: round(bytes / 2 ** 20, 0), ...(exact ? { baseline: exact.rate, ratio: round(rate / exact.rate, 3) } : {}) },
});
