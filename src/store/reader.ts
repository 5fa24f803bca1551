import * as z from "zod";
import type { AuditOrigin, AuditOutcome, AuditSeverity } from "../event.js";
import { optionSchemas, parseOptions } from "../options.js";
import { AUDIT_LOG_MODEL, entryFromRow, type AuditLogRow, type StoreAdapter, type StoreWhere } from "./adapter.js";
import { statusOf, type AuditLogEntry } from "./entry.js";

/** Filters of a list query; every field narrows, absent fields do not. */
export interface AuditQuery {
  userId?: string;
  action?: string;
  outcome?: AuditOutcome;
  severity?: AuditSeverity;
  origin?: AuditOrigin;
  /** Inclusive lower bound of `createdAt`. */
  from?: Date;
  /** Inclusive upper bound of `createdAt`. */
  to?: Date;
  /** Default 50. */
  limit?: number;
  /** Default 0. */
  offset?: number;
}

export interface AuditPage {
  /** Newest first. */
  entries: AuditLogEntry[];
  /** How many entries match the filters, ignoring limit and offset. */
  total: number;
}

/** Reads stored audit records back: the endpoints, the CLI and tests use it. */
export interface AuditReader {
  list(query: AuditQuery): Promise<AuditPage>;
  get(id: string): Promise<AuditLogEntry | null>;
}

export const DEFAULT_LIST_LIMIT = 50;

/** Reads the `auditLog` table through better-auth's adapter. */
export class DatabaseReader implements AuditReader {
  #adapter: StoreAdapter | (() => StoreAdapter);
  #model: string;

  constructor(options: { adapter: StoreAdapter | (() => StoreAdapter); model?: string }) {
    parseOptions(
      "DatabaseReader",
      z.strictObject({ adapter: z.union([optionSchemas.withMethods<StoreAdapter>("findMany", "findOne", "count"), optionSchemas.fn()]), model: z.string().min(1).optional() }),
      options,
    );
    this.#adapter = options.adapter;
    this.#model = options.model ?? AUDIT_LOG_MODEL;
  }

  get #db(): StoreAdapter {
    return typeof this.#adapter === "function" ? this.#adapter() : this.#adapter;
  }

  async list(query: AuditQuery): Promise<AuditPage> {
    const where = whereFor(query);
    const [rows, total] = await Promise.all([
      this.#db.findMany<AuditLogRow>({
        model: this.#model,
        where,
        limit: query.limit ?? DEFAULT_LIST_LIMIT,
        offset: query.offset ?? 0,
        sortBy: { field: "createdAt", direction: "desc" },
      }),
      this.#db.count({ model: this.#model, where }),
    ]);
    return { entries: rows.map(entryFromRow), total: Number(total) };
  }

  async get(id: string): Promise<AuditLogEntry | null> {
    const row = await this.#db.findOne<AuditLogRow>({ model: this.#model, where: [{ field: "id", value: id }] });
    return row ? entryFromRow(row) : null;
  }
}

function whereFor(query: AuditQuery): StoreWhere[] {
  const where: StoreWhere[] = [];
  if (query.userId !== undefined) where.push({ field: "userId", value: query.userId });
  if (query.action !== undefined) where.push({ field: "action", value: query.action });
  if (query.outcome !== undefined) where.push({ field: "status", value: statusOf(query.outcome) });
  if (query.severity !== undefined) where.push({ field: "severity", value: query.severity });
  // rows migrated from better-auth-audit-logs have no origin and match neither value
  if (query.origin !== undefined) where.push({ field: "origin", value: query.origin });
  if (query.from !== undefined) where.push({ field: "createdAt", value: query.from, operator: "gte" });
  if (query.to !== undefined) where.push({ field: "createdAt", value: query.to, operator: "lte" });
  return where;
}
