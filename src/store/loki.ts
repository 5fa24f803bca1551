/**
 * Reading audit records back from Grafana Loki over its HTTP API: paged `query_range` (LogQL),
 * `count_over_time` counts, and the way back from a Loki entry to the OTLP record the app sent.
 *
 * The collector's Loki pipeline (collector/otelcol.loki.yaml) writes each audit record's line as
 * the record itself in JSON — `{"format":"otel-auth-audit/record/v1","timeUnixNano",
 * "eventName","severityNumber","severityText","body","attributes":{…}}` — with the original
 * attribute names and JSON types. That is what makes a Loki entry verifiable: the structured
 * metadata alone is not (Loki renames `.` → `_`, stringifies every value, drops EventName).
 */
import { AUDIT_ATTR } from "../attributes.js";
import { bareObject } from "../safe-keys.js";
import type { AnyValue } from "@opentelemetry/api";
import { fromOtlpValue, type OtlpAnyValue, type OtlpKeyValue } from "../chain/canonical.js";
import { CHAIN_ATTR, CHECKPOINT_ATTR } from "../chain/format.js";
import type { OtlpFlatRecord } from "../verify/otlp.js";

/** The `format` of a line written by otelcol.loki.yaml. */
export const LOKI_RECORD_FORMAT = "otel-auth-audit/record/v1";

/** The default stream selector of the audit trail (otelcol.loki.yaml + loki.yaml's index label). */
export const DEFAULT_AUDIT_SELECTOR = '{audit_stream="audit"}';

/** Loki answers at most this many entries per query by default (`max_entries_limit_per_query`). */
const MAX_PAGE = 5000;
/**
 * Entries per request unless told otherwise: a page travels inside Loki over gRPC, whose default
 * 4 MiB message limit 5000 audit entries (line + structured metadata, ~1.5 kB each) exceed.
 */
const DEFAULT_PAGE = 1000;
/** Loki refuses longer ranges by default (`max_query_length` 721h): longer reads are split. */
const MAX_WINDOW_NS = 720n * 3600n * 1_000_000_000n;

export interface LokiConnection {
  /** Base URL of Loki, e.g. `http://127.0.0.1:3100`. */
  url: string;
  /** Extra request headers: `X-Scope-OrgID` for a multi-tenant Loki, `Authorization`. */
  headers?: Record<string, string>;
  /** Per request, in ms. Default 30 000. */
  timeoutMs?: number;
}

/** One log entry as Loki returns it (categorize-labels encoding). */
export interface LokiEntry {
  /** Nanoseconds since the epoch, as Loki returns it. */
  ts: string;
  line: string;
  /** Index labels of the stream (`service_name`, `audit_stream`). */
  labels: Record<string, string>;
  /** Structured metadata, and labels a parser stage of the query extracted. */
  metadata: Record<string, string>;
}

export interface RangeQuery {
  /** A LogQL log query (selector and filters). */
  query: string;
  /** Nanoseconds since the epoch, inclusive. */
  start: bigint;
  /** Nanoseconds since the epoch, exclusive. */
  end: bigint;
  /** `forward` (oldest first, the default) or `backward`. */
  direction?: "forward" | "backward";
  /** Entries per request, default 1000, at most 5000 (Loki's default limit). */
  pageSize?: number;
}

export const nowNanos = (): bigint => BigInt(Date.now()) * 1_000_000n;
export const dateToNanos = (d: Date): bigint => BigInt(d.getTime()) * 1_000_000n;

async function lokiGet(conn: LokiConnection, path: string, params: Record<string, string>): Promise<any> {
  const url = new URL(path, conn.url.endsWith("/") ? conn.url : conn.url + "/");
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  const response = await fetch(url, {
    headers: { "X-Loki-Response-Encoding-Flags": "categorize-labels", ...conn.headers },
    signal: AbortSignal.timeout(conn.timeoutMs ?? 30_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`Loki ${url.pathname} answered ${response.status}: ${text.slice(0, 300).trim()}`);
  return JSON.parse(text);
}

/** The entries of one query_range answer, in the query's direction. */
function entriesOf(answer: any, direction: "forward" | "backward"): LokiEntry[] {
  const out: LokiEntry[] = [];
  for (const stream of answer?.data?.result ?? []) {
    const labels: Record<string, string> = stream.stream ?? {};
    for (const value of stream.values ?? []) {
      const [ts, line, meta] = value as [string, string, { structuredMetadata?: Record<string, string>; parsed?: Record<string, string> } | undefined];
      out.push({ ts, line, labels, metadata: { ...meta?.structuredMetadata, ...meta?.parsed } });
    }
  }
  const sign = direction === "forward" ? 1 : -1;
  return out.sort((a, b) => sign * compareNanos(a.ts, b.ts));
}

function compareNanos(a: string, b: string): number {
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
}

/** Entries at one timestamp may share a line (and Loki keeps both when their metadata differs). */
const entryKey = (e: LokiEntry): string => e.ts + "\n" + JSON.stringify(e.labels) + "\n" + JSON.stringify(e.metadata) + "\n" + e.line;

/**
 * Every entry of a LogQL query in [start, end), page by page (an async iterator of pages). Pages
 * continue from the last timestamp seen; entries already returned at that timestamp are skipped,
 * so nothing is lost or repeated at page boundaries. Ranges longer than 720 h are split.
 */
export async function* queryRange(conn: LokiConnection, q: RangeQuery): AsyncGenerator<LokiEntry[]> {
  const direction = q.direction ?? "forward";
  const windows: Array<[bigint, bigint]> = [];
  for (let s = q.start; s < q.end; s += MAX_WINDOW_NS) windows.push([s, s + MAX_WINDOW_NS < q.end ? s + MAX_WINDOW_NS : q.end]);
  if (direction === "backward") windows.reverse();
  for (const [wStart, wEnd] of windows) {
    let start = wStart;
    let end = wEnd;
    let pageSize = Math.min(q.pageSize ?? DEFAULT_PAGE, MAX_PAGE);
    let boundary: string | undefined;
    let seen = new Set<string>();
    for (;;) {
      const answer = await lokiGet(conn, "loki/api/v1/query_range", {
        query: q.query,
        start: start.toString(),
        end: end.toString(),
        limit: String(pageSize),
        direction,
      });
      const entries = entriesOf(answer, direction);
      const fresh = boundary === undefined ? entries : entries.filter((e) => e.ts !== boundary || !seen.has(entryKey(e)));
      if (fresh.length > 0) yield fresh;
      if (entries.length < pageSize) break;
      const last = entries[entries.length - 1].ts;
      if (fresh.length === 0) {
        // a whole page of one timestamp already seen: read that timestamp with a larger page,
        // or (at Loki's limit) step past it
        if (pageSize < MAX_PAGE) {
          pageSize = MAX_PAGE;
          continue;
        }
        if (direction === "forward") start = BigInt(last) + 1n;
        else end = BigInt(last);
        boundary = undefined;
        seen = new Set();
        continue;
      }
      if (last !== boundary) {
        boundary = last;
        seen = new Set();
      }
      for (const e of entries) if (e.ts === last) seen.add(entryKey(e));
      if (direction === "forward") start = BigInt(last);
      else end = BigInt(last) + 1n;
    }
  }
}

/** How many entries a LogQL log query matches in [start, end): `sum(count_over_time(...))`. */
export async function countEntries(conn: LokiConnection, query: string, start: bigint, end: bigint): Promise<number> {
  let total = 0;
  for (let s = start; s < end; s += MAX_WINDOW_NS) {
    const e = s + MAX_WINDOW_NS < end ? s + MAX_WINDOW_NS : end;
    const seconds = (e - s + 999_999_999n) / 1_000_000_000n;
    const answer = await lokiGet(conn, "loki/api/v1/query", {
      query: `sum(count_over_time(${query} [${seconds}s]))`,
      time: e.toString(),
    });
    const value = answer?.data?.result?.[0]?.value?.[1];
    if (value !== undefined) total += Number(value);
  }
  return total;
}

/** A LogQL string literal. */
export const logqlString = (value: string): string => JSON.stringify(value);

/**
 * The OTLP record an entry came from. A line written by otelcol.loki.yaml gives it back exactly
 * (names, types, body, event name, timestamp); any other entry is rebuilt as far as the
 * structured metadata allows (known attribute names only, typed where the name says so) — enough
 * to read it, not to verify its hash.
 */
export function recordFromLokiEntry(entry: LokiEntry): OtlpFlatRecord {
  const resource = { attributes: Object.entries(entry.labels).map(([key, v]) => ({ key, value: { stringValue: v } })) };
  const scope = { name: entry.metadata.scope_name, version: entry.metadata.scope_version };
  const snapshot = parseSnapshot(entry.line);
  const record: OtlpFlatRecord = snapshot
    ? {
        timeUnixNano: typeof snapshot.timeUnixNano === "string" ? snapshot.timeUnixNano : entry.ts,
        eventName: typeof snapshot.eventName === "string" ? snapshot.eventName : undefined,
        severityNumber: typeof snapshot.severityNumber === "number" ? snapshot.severityNumber : undefined,
        severityText: typeof snapshot.severityText === "string" ? snapshot.severityText : undefined,
        body: snapshot.body === undefined ? undefined : toAnyValue(snapshot.body),
        attributes: Object.entries(isObject(snapshot.attributes) ? snapshot.attributes : {}).map(([key, v]) => ({ key, value: toAnyValue(v) })),
      }
    : fromMetadata(entry);
  if (entry.metadata.trace_id) record.traceId = entry.metadata.trace_id;
  if (entry.metadata.span_id) record.spanId = entry.metadata.span_id;
  record.resource = resource;
  record.scope = scope;
  return record;
}

function parseSnapshot(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith("{") || !line.includes(LOKI_RECORD_FORMAT)) return undefined;
  try {
    const parsed = JSON.parse(line);
    return isObject(parsed) && parsed.format === LOKI_RECORD_FORMAT ? parsed : undefined;
  } catch {
    return undefined;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** A JSON value (as Go's pcommon renders a map) as an OTLP AnyValue. Bytes arrive as base64 strings. */
/** Deeper values than this in a line read back from Loki are not rebuilt (a hostile line must not overflow the stack). */
const MAX_VALUE_DEPTH = 64;

export function toAnyValue(v: unknown, depth = 0): OtlpAnyValue {
  switch (typeof v) {
    case "string":
      return { stringValue: v };
    case "boolean":
      return { boolValue: v };
    case "number":
      return Number.isInteger(v) ? { intValue: v } : { doubleValue: v };
    case "object":
      if (v === null) return {};
      // too deep to be one of our records: a marker, which no chain hash will match
      if (depth >= MAX_VALUE_DEPTH) return { stringValue: "[too deep]" };
      if (Array.isArray(v)) return { arrayValue: { values: v.map((x) => toAnyValue(x, depth + 1)) } };
      return { kvlistValue: { values: Object.entries(v).map(([key, x]) => ({ key, value: toAnyValue(x, depth + 1) })) } };
    default:
      return {};
  }
}

/** Attribute names we know, by the name Loki gives them (`.` → `_`). */
const KNOWN = new Map<string, string>();
for (const name of [
  ...Object.values(AUDIT_ATTR).filter((n) => !n.endsWith(".")),
  ...Object.values(CHAIN_ATTR),
  ...Object.values(CHECKPOINT_ATTR),
  "audit.metadata_dropped",
]) {
  KNOWN.set(name.replace(/\./g, "_"), name);
}
const NUMERIC = new Set<string>([AUDIT_ATTR.httpStatusCode, CHAIN_ATTR.seq, CHECKPOINT_ATTR.size, "audit.metadata_dropped"]);
const BOOLEAN = new Set<string>([CHECKPOINT_ATTR.final]);

function fromMetadata(entry: LokiEntry): OtlpFlatRecord {
  const m = entry.metadata;
  const attributes: OtlpKeyValue[] = [];
  for (const [lokiName, v] of Object.entries(m)) {
    let name = KNOWN.get(lokiName);
    if (!name && lokiName.startsWith("audit_metadata_")) name = AUDIT_ATTR.metadataPrefix + lokiName.slice("audit_metadata_".length);
    if (!name) continue;
    const value: OtlpAnyValue = NUMERIC.has(name) && /^-?\d+$/.test(v) ? { intValue: v } : BOOLEAN.has(name) ? { boolValue: v === "true" } : { stringValue: v };
    attributes.push({ key: name, value });
  }
  return {
    timeUnixNano: entry.ts,
    eventName: m.event_name || undefined,
    severityNumber: m.severity_number ? Number(m.severity_number) : undefined,
    severityText: m.severity_text || undefined,
    body: { stringValue: entry.line },
    attributes,
  };
}

/** A plain attribute object of a record read back (for fromAttributes). */
export function plainAttributes(record: OtlpFlatRecord): Record<string, AnyValue> {
  // prototype-free: an attribute named `__proto__` read back from Loki stays a plain key
  const out = bareObject<AnyValue>();
  for (const kv of record.attributes ?? []) out[kv.key] = fromOtlpValue(kv.value);
  return out;
}
