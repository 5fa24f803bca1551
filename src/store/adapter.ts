import type { AuditLogEntry } from "./entry.js";
import { outcomeOf, statusOf } from "./entry.js";
import type { AuditOrigin, AuditSeverity } from "../event.js";
import { parseJsonSafely } from "../safe-keys.js";

/** A where clause in better-auth's adapter vocabulary. */
export interface StoreWhere {
  field: string;
  value: string | number | boolean | string[] | number[] | Date | null;
  operator?: "eq" | "ne" | "lt" | "lte" | "gt" | "gte" | "in" | "not_in" | "contains" | "starts_with" | "ends_with";
  connector?: "AND" | "OR";
}

/**
 * The part of better-auth's database adapter (`ctx.context.adapter`) the store uses; any adapter
 * better-auth ships (Kysely/SQL, Drizzle, Prisma, MongoDB, memory) fits.
 */
export interface StoreAdapter {
  id?: string;
  create(data: { model: string; data: Record<string, unknown>; forceAllowId?: boolean }): Promise<unknown>;
  findOne<T>(data: { model: string; where: StoreWhere[] }): Promise<T | null>;
  findMany<T>(data: {
    model: string;
    where?: StoreWhere[];
    limit?: number;
    offset?: number;
    sortBy?: { field: string; direction: "asc" | "desc" };
  }): Promise<T[]>;
  count(data: { model: string; where?: StoreWhere[] }): Promise<number>;
  deleteMany(data: { model: string; where: StoreWhere[] }): Promise<number>;
  updateMany(data: { model: string; where: StoreWhere[]; update: Record<string, unknown> }): Promise<number>;
  /** better-auth's wrapped adapters always have it (sequential where the database has no transactions). */
  transaction?<R>(callback: (trx: Omit<StoreAdapter, "transaction">) => Promise<R>): Promise<R>;
}

/** The schema key of the table (`schema.auditLog.modelName` renames the table, not the key). */
export const AUDIT_LOG_MODEL = "auditLog";

/** A row of the `auditLog` table: better-auth-audit-logs' columns, then ours. */
export interface AuditLogRow {
  id: string;
  userId: string | null;
  action: string;
  status: string;
  severity: string;
  ipAddress: string | null;
  userAgent: string | null;
  /** JSON text, as better-auth-audit-logs stores it. */
  metadata: string | null;
  createdAt: Date | string | number;
  sessionId?: string | null;
  actorId?: string | null;
  error?: string | null;
  origin?: string | null;
  eventName?: string | null;
  method?: string | null;
  path?: string | null;
  statusCode?: number | null;
}

export function rowFromEntry(entry: AuditLogEntry): AuditLogRow {
  return {
    id: entry.id,
    userId: entry.userId,
    action: entry.action,
    status: statusOf(entry.outcome),
    severity: entry.severity,
    ipAddress: entry.ipAddress,
    userAgent: entry.userAgent ?? null,
    metadata: entry.metadata && Object.keys(entry.metadata).length > 0 ? JSON.stringify(entry.metadata) : null,
    createdAt: entry.createdAt,
    sessionId: entry.sessionId,
    actorId: entry.actorId,
    error: entry.error,
    origin: entry.origin,
    eventName: entry.eventName,
    method: entry.method,
    path: entry.path,
    statusCode: entry.statusCode,
  };
}

/** Reads our rows and better-auth-audit-logs' rows alike (its "failed", its missing columns). */
export function entryFromRow(row: AuditLogRow): AuditLogEntry {
  const outcome = outcomeOf(row.status);
  return {
    id: String(row.id),
    action: row.action,
    outcome,
    status: statusOf(outcome),
    severity: row.severity as AuditSeverity,
    userId: row.userId ?? null,
    sessionId: row.sessionId ?? null,
    actorId: row.actorId ?? null,
    ipAddress: row.ipAddress ?? null,
    userAgent: row.userAgent ?? null,
    error: row.error ?? null,
    origin: (row.origin === "client" ? "client" : "server") as AuditOrigin,
    eventName: row.eventName ?? null,
    method: row.method ?? null,
    path: row.path ?? null,
    statusCode: row.statusCode ?? null,
    metadata: parseMetadata(row.metadata),
    createdAt: row.createdAt instanceof Date ? row.createdAt : new Date(row.createdAt),
  };
}

/** better-auth-audit-logs' reading: absent or unreadable metadata is `{}`, a non-object JSON value is kept under `value`. */
function parseMetadata(value: unknown): Record<string, unknown> {
  if (value === null || value === undefined || value === "") return {};
  // a JSON column some adapters hand back as an object: read it as its text would be
  if (typeof value === "object") return metadataFromText(JSON.stringify(value) ?? "null");
  return metadataFromText(String(value));
}

function metadataFromText(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = parseJsonSafely(text);
    if (parsed === null) return {};
    return typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : { value: parsed };
  } catch {
    return { value: text };
  }
}
