import { readFile, stat } from "node:fs/promises";
import { parseArgs } from "node:util";
import { verifyRecords, type VerifyResult } from "../verify/verify.js";
import type { OtlpFlatRecord } from "../verify/otlp.js";
import { progressBar } from "./progress.js";
import { PARALLEL_MIN_BYTES, verifyFilesParallel } from "../verify/parallel.js";
import { sourcesFromArgs, timeRange, type LokiSourceOptions } from "./sources.js";
import { DEFAULT_AUDIT_SELECTOR } from "../store/loki.js";

export const VERIFY_USAGE = `usage: otel-auth-audit verify [file ...] [--loki <url> [--query <logql>]] [options]
Reads OTLP JSON logs (one ExportLogsServiceRequest, or JSON lines as the collector's file exporter
writes them) from the files, or from stdin, or reads them back from Grafana Loki, and verifies
every hash chain in them.
  --loki <url>            read from Loki (query_range, every page), e.g. http://127.0.0.1:3100
  --query <logql>         LogQL log query (default: ${DEFAULT_AUDIT_SELECTOR})
  --since <duration>      Loki: how far back (default 24h; e.g. 90m, 7d)
  --from <time>, --to <time>  Loki: RFC 3339 times or nanoseconds (instead of --since)
  --loki-header <k: v>    Loki: an extra request header (X-Scope-OrgID, Authorization); repeatable
  --key <secret>          HMAC key of the chain (default: env OTEL_AUTH_AUDIT_KEY)
  --public-key <pem file> Ed25519 public key: checkpoints must be signed by it
  --require-closed        a chain that does not end in its final checkpoint fails (truncated)
  --allow-empty           input without any chained audit record is OK (default: it fails)
  --json                  print the result as JSON
  --workers <n>           worker threads for files of 16 MiB and more (default: one per core; 0: none)
Input that is not OTLP JSON logs is refused; a key given twice in a record is tampering.
Exit status: 0 when every chain verifies, 1 when one does not (or nothing was verified), 2 on a
usage or read error.`;

export async function runVerify(argv: string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      key: { type: "string" },
      "public-key": { type: "string" },
      "require-closed": { type: "boolean", default: false },
      "allow-empty": { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      workers: { type: "string" },
      loki: { type: "string" },
      query: { type: "string" },
      since: { type: "string" },
      from: { type: "string" },
      to: { type: "string" },
      "loki-header": { type: "string", multiple: true },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    out.write(VERIFY_USAGE + "\n");
    return 0;
  }
  if (values.key === "") {
    process.stderr.write("otel-auth-audit verify: --key is empty; leave it out to verify without a key\n");
    return 2;
  }
  // an empty OTEL_AUTH_AUDIT_KEY is an unset one, as for every OTEL_* variable
  const key = values.key ?? (process.env.OTEL_AUTH_AUDIT_KEY || undefined);
  const publicKey = values["public-key"] ? await readFile(values["public-key"], "utf8") : undefined;
  let loki: LokiSourceOptions | undefined;
  if (values.loki) {
    try {
      const headers: Record<string, string> = {};
      for (const h of values["loki-header"] ?? []) {
        const i = h.indexOf(":");
        if (i <= 0) throw new Error(`--loki-header wants "Name: value", got ${JSON.stringify(h)}`);
        headers[h.slice(0, i).trim()] = h.slice(i + 1).trim();
      }
      loki = { url: values.loki, query: values.query ?? DEFAULT_AUDIT_SELECTOR, headers, ...timeRange(values) };
    } catch (error) {
      process.stderr.write(`otel-auth-audit verify: ${(error as Error).message}\n`);
      return 2;
    }
  } else if (values.query || values.since || values.from || values.to || values["loki-header"]) {
    process.stderr.write("otel-auth-audit verify: --query, --since, --from, --to and --loki-header need --loki <url>\n");
    return 2;
  }
  const fast = await verifyLargeFiles(positionals, loki, { key, publicKey, requireClosed: values["require-closed"], workers: values.workers });
  if (fast) {
    out.write(values.json ? JSON.stringify(fast, null, 2) + "\n" : formatResult(fast));
    return 0;
  }
  const records: OtlpFlatRecord[] = [];
  for (const source of sourcesFromArgs(positionals, loki)) {
    try {
      for (const r of await source.read()) records.push(r);
    } catch (error) {
      process.stderr.write(`otel-auth-audit verify: cannot read ${source.name}: ${(error as Error).message}\n`);
      return 2;
    }
  }
  const bar = progressBar("verifying");
  const result = verifyRecords(records, {
    key,
    publicKey,
    requireClosed: values["require-closed"],
    allowEmpty: values["allow-empty"],
    onProgress: bar.update,
  });
  bar.end();
  out.write(values.json ? JSON.stringify(result, null, 2) + "\n" : formatResult(result));
  return result.ok ? 0 : 1;
}

/**
 * Large files go to the parallel verifier first (worker threads, bounded memory); it answers only
 * for logs it proves healthy, so any problem is found and reported by the exact verifier below.
 */
async function verifyLargeFiles(
  paths: string[],
  loki: LokiSourceOptions | undefined,
  options: { key?: string; publicKey?: string; requireClosed: boolean; workers?: string },
): Promise<VerifyResult | undefined> {
  const workers = options.workers === undefined ? undefined : Number(options.workers);
  if (loki || !options.key || workers === 0 || paths.length === 0 || paths.includes("-")) return undefined;
  let bytes = 0;
  try {
    for (const p of paths) bytes += (await stat(p)).size;
  } catch {
    return undefined; // the exact verifier reads the files again and reports what is wrong
  }
  if (bytes < PARALLEL_MIN_BYTES) return undefined;
  const bar = progressBar("verifying (bytes)");
  try {
    return await verifyFilesParallel(paths, { ...options, workers: Number.isInteger(workers) && workers! > 0 ? workers : undefined, onProgress: bar.update });
  } catch (error) {
    // a file that cannot be read is the exact verifier's to report, as for small files; anything
    // else is not a finding about the log (those come back as undefined) but the workers failing:
    // the exact verifier still gives the answer, on one thread, and the user learns why it is slower
    if (typeof (error as NodeJS.ErrnoException)?.code !== "string" || !(error as NodeJS.ErrnoException).syscall) {
      process.stderr.write(`otel-auth-audit verify: the parallel verifier failed (${(error as Error)?.message ?? String(error)}); verifying on one thread\n`);
    }
    return undefined;
  } finally {
    bar.end();
  }
}

/** The human report: one line per chain, then its problems (info problems counted, not listed). */
export function formatResult(result: VerifyResult): string {
  const lines: string[] = [];
  for (const chain of result.chains) {
    const state = chain.closed ? "closed" : "open";
    lines.push(`${chain.ok ? "OK  " : "FAIL"} chain ${chain.id}: ${chain.size} records, ${chain.checkpoints} checkpoints, ${state}, ${chain.hashAlg}`);
    const mine = result.problems.filter((p) => p.chain === chain.id);
    for (const p of mine.filter((p) => p.level === "error")) lines.push(`     ${p.kind}${p.seq === null ? "" : ` at ${p.seq}`}: ${p.message}`);
    const info = mine.filter((p) => p.level === "info");
    const duplicates = info.filter((p) => p.kind === "duplicate").length;
    if (duplicates) lines.push(`     info: ${duplicates} re-delivered duplicate(s), not tampering`);
    for (const p of info.filter((p) => p.kind !== "duplicate")) lines.push(`     info: ${p.message}`);
  }
  for (const p of result.problems.filter((p) => p.chain === "")) lines.push(`${p.level === "error" ? "FAIL" : "info"} ${p.kind}: ${p.message}`);
  if (result.chains.length === 0 && result.problems.length === 0) lines.push("no chained audit records found (--allow-empty)");
  lines.push(result.ok ? `verified ${result.records} records: OK` : `verified ${result.records} records: FAILED`);
  return lines.join("\n") + "\n";
}
