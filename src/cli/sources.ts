import { readFile } from "node:fs/promises";
import { readOtlpJson, type OtlpFlatRecord } from "../verify/otlp.js";
import { nowNanos, queryRange, recordFromLokiEntry, type LokiConnection } from "../store/loki.js";

/**
 * Where `verify` reads records from. Each source yields flat OTLP records; a new kind (e.g. Loki
 * with `--loki URL --query …`) is one more implementation picked in `sourcesFromArgs`.
 */
export interface RecordSource {
  /** For messages: a file path, "stdin", a URL. */
  readonly name: string;
  read(): Promise<OtlpFlatRecord[]>;
}

export function fileSource(path: string): RecordSource {
  return { name: path, read: async () => readOtlpJson(await readFile(path, "utf8")) };
}

export function stdinSource(stream: NodeJS.ReadableStream = process.stdin): RecordSource {
  return {
    name: "stdin",
    read: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
      return readOtlpJson(Buffer.concat(chunks).toString("utf8"));
    },
  };
}

export interface LokiSourceOptions extends LokiConnection {
  /** A LogQL log query, e.g. `{audit_stream="audit", service_name="shop"}`. */
  query: string;
  /** Nanoseconds since the epoch: [start, end). */
  start: bigint;
  end: bigint;
}

/**
 * Records read back from Loki with `query_range`, oldest first, every page. The lines that
 * collector/otelcol.loki.yaml writes carry the records as the app sent them, so their hashes
 * recompute; entries without that line are rebuilt from structured metadata (readable, not
 * verifiable).
 */
export function lokiSource(options: LokiSourceOptions): RecordSource {
  const { query, start, end, ...conn } = options;
  return {
    name: `${conn.url} ${query}`,
    read: async () => {
      const out: OtlpFlatRecord[] = [];
      for await (const page of queryRange(conn, { query, start, end })) for (const entry of page) out.push(recordFromLokiEntry(entry));
      return out;
    },
  };
}

/** File paths, or stdin when there are none (and no Loki) or a path is "-"; plus Loki when given. */
export function sourcesFromArgs(paths: string[], loki?: LokiSourceOptions): RecordSource[] {
  const sources = paths.map((p) => (p === "-" ? stdinSource() : fileSource(p)));
  if (loki) sources.push(lokiSource(loki));
  return sources.length ? sources : [stdinSource()];
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `90s`, `15m`, `24h`, `7d`, `1h30m` → milliseconds. */
export function parseDuration(text: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text) throw new Error(`not a duration: ${text} (e.g. 90s, 15m, 24h, 7d)`);
  return parts.reduce((ms, p) => ms + Number(p[1]) * UNIT_MS[p[2]], 0);
}

/** RFC 3339 / ISO 8601, or nanoseconds since the epoch → nanoseconds. */
export function parseTime(text: string): bigint {
  if (/^\d{16,20}$/.test(text)) return BigInt(text);
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new Error(`not a time: ${text} (RFC 3339, e.g. 2026-11-20T00:00:00Z, or nanoseconds)`);
  return BigInt(ms) * 1_000_000n;
}

/** The [start, end) of `--from`/`--to`/`--since` (default: the last `defaultSince`). */
export function timeRange(opts: { from?: string; to?: string; since?: string }, defaultSince = "24h"): { start: bigint; end: bigint } {
  const end = opts.to ? parseTime(opts.to) : nowNanos() + 1n;
  const start = opts.from ? parseTime(opts.from) : end - BigInt(Math.round(parseDuration(opts.since ?? defaultSince))) * 1_000_000n;
  if (start >= end) throw new Error("the time range is empty (--from is not before --to)");
  return { start, end };
}
