import * as z from "zod";
import { AUDIT_ATTR, fromAttributes } from "../attributes.js";
import { optionSchemas, parseOptions } from "../options.js";
import type { AuditEvent } from "../event.js";
import {
  countEntries,
  dateToNanos,
  DEFAULT_AUDIT_SELECTOR,
  logqlString,
  nowNanos,
  plainAttributes,
  queryRange,
  recordFromLokiEntry,
  type LokiConnection,
} from "./loki.js";
import { entryFromEvent, type AuditLogEntry } from "./entry.js";
import type { AuditPage, AuditQuery, AuditReader } from "./reader.js";

export interface LokiAuditReaderOptions extends LokiConnection {
  /** LogQL stream selector of the audit trail. Default `{audit_stream="audit"}` (collector/otelcol.loki.yaml). */
  selector?: string;
  /** How far back `list()` looks when the query has no `from`. Default 30 days. */
  lookbackMs?: number;
}

const DAY_MS = 86_400_000;

const optionsSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  headers: z.record(z.string(), z.string()).optional(),
  timeoutMs: optionSchemas.positiveInt().optional(),
  selector: z.string().regex(/^\{.*\}$/s, "a LogQL stream selector such as {audit_stream=\"audit\"}").optional(),
  lookbackMs: optionSchemas.positiveInt().optional(),
});
const DEFAULT_LIMIT = 50;

/** Structured-metadata names of the filterable attributes (Loki writes `.` as `_`). */
const LOKI_NAME = {
  userId: AUDIT_ATTR.userId.replace(/\./g, "_"),
  action: AUDIT_ATTR.action.replace(/\./g, "_"),
  outcome: AUDIT_ATTR.outcome.replace(/\./g, "_"),
  severity: AUDIT_ATTR.severity.replace(/\./g, "_"),
  id: AUDIT_ATTR.id.replace(/\./g, "_"),
  origin: AUDIT_ATTR.origin.replace(/\./g, "_"),
} as const;

/**
 * An AuditReader over Grafana Loki: filters are LogQL label filters on the structured metadata
 * (`user_id`, `audit_action`, `audit_outcome`, `audit_severity`), events come from the record JSON
 * that otelcol.loki.yaml writes as the line. Newest first; `total` is a `count_over_time`.
 * Checkpoint records are not events and are left out. A record delivered twice (at-least-once)
 * is listed once per page but counted twice in `total`.
 */
export class LokiAuditReader implements AuditReader {
  readonly #conn: LokiConnection;
  readonly #selector: string;
  readonly #lookbackMs: number;

  constructor(options: LokiAuditReaderOptions) {
    parseOptions("LokiAuditReader", optionsSchema, options);
    const { selector = DEFAULT_AUDIT_SELECTOR, lookbackMs = 30 * DAY_MS, ...conn } = options;
    this.#conn = conn;
    this.#selector = selector;
    this.#lookbackMs = lookbackMs;
  }

  /** The LogQL log query of a list query (also handy in Grafana). */
  logql(query: AuditQuery = {}): string {
    let q = `${this.#selector} | ${LOKI_NAME.action}!=""`;
    if (query.userId !== undefined) q += ` | ${LOKI_NAME.userId}=${logqlString(query.userId)}`;
    if (query.action !== undefined) q += ` | ${LOKI_NAME.action}=${logqlString(query.action)}`;
    if (query.outcome !== undefined) q += ` | ${LOKI_NAME.outcome}=${logqlString(query.outcome)}`;
    if (query.severity !== undefined) q += ` | ${LOKI_NAME.severity}=${logqlString(query.severity)}`;
    if (query.origin !== undefined) q += ` | ${LOKI_NAME.origin}=${logqlString(query.origin)}`;
    return q;
  }

  async list(query: AuditQuery = {}): Promise<AuditPage> {
    const end = query.to ? dateToNanos(query.to) + 1n : nowNanos() + 1n;
    const start = query.from ? dateToNanos(query.from) : end - BigInt(this.#lookbackMs) * 1_000_000n;
    const limit = Math.max(0, query.limit ?? DEFAULT_LIMIT);
    const offset = Math.max(0, query.offset ?? 0);
    const logql = this.logql(query);
    const [entries, total] = await Promise.all([
      this.#read(logql, start, end, offset + limit, "backward").then((events) => events.slice(offset, offset + limit).map((e) => entryFromEvent(e))),
      countEntries(this.#conn, logql, start, end),
    ]);
    return { entries, total };
  }

  async get(id: string): Promise<AuditLogEntry | null> {
    const logql = `${this.#selector} | ${LOKI_NAME.id}=${logqlString(id)}`;
    // A UUIDv7 carries its creation time: look around it first, then everywhere.
    const ms = uuidv7Millis(id);
    const now = nowNanos() + 1n;
    const windows: Array<[bigint, bigint]> = [];
    if (ms !== undefined) windows.push([BigInt(ms - DAY_MS) * 1_000_000n, BigInt(ms + DAY_MS) * 1_000_000n]);
    windows.push([now - BigInt(this.#lookbackMs) * 1_000_000n, now]);
    for (const [start, end] of windows) {
      const [event] = await this.#read(logql, start, end, 1, "backward");
      if (event) return entryFromEvent(event);
    }
    return null;
  }

  /** Up to `want` distinct events (by audit.id), in the given direction. */
  async #read(logql: string, start: bigint, end: bigint, want: number, direction: "forward" | "backward"): Promise<AuditEvent[]> {
    const events: AuditEvent[] = [];
    if (want <= 0) return events;
    const ids = new Set<string>();
    for await (const page of queryRange(this.#conn, { query: logql, start, end, direction, pageSize: Math.min(want, 1000) })) {
      for (const entry of page) {
        const record = recordFromLokiEntry(entry);
        const ms = Number(BigInt(record.timeUnixNano ?? entry.ts) / 1_000_000n);
        const event = fromAttributes(plainAttributes(record), new Date(ms));
        if (ids.has(event.id)) continue;
        ids.add(event.id);
        events.push(event);
        if (events.length >= want) return events;
      }
    }
    return events;
  }
}

/** The millisecond timestamp of a UUIDv7, or undefined for other ids. */
function uuidv7Millis(id: string): number | undefined {
  const m = /^([0-9a-f]{8})-([0-9a-f]{4})-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i.exec(id);
  return m ? parseInt(m[1] + m[2], 16) : undefined;
}
