import type { ReadableLogRecord } from "@opentelemetry/sdk-logs";
import { fromAttributes } from "../attributes.js";
import type { AuditEvent, AuditOrigin, AuditOutcome, AuditSeverity } from "../event.js";
import { unflatten } from "../safe-keys.js";

/** better-auth-audit-logs' word for an outcome, kept in the `status` column so its tables stay readable. */
export type AuditStatus = "success" | "failed";

/**
 * One stored audit record, as readers return it and custom storages receive it. Absent values
 * are null (a stable shape for clients).
 */
export interface AuditLogEntry {
  /** The record's `audit.id` (UUIDv7): a re-delivered record has the same id. */
  id: string;
  action: string;
  outcome: AuditOutcome;
  /** better-auth-audit-logs' name for `outcome` ("failed" for a failure), for code written against it. */
  status: AuditStatus;
  severity: AuditSeverity;
  userId: string | null;
  sessionId: string | null;
  actorId: string | null;
  ipAddress: string | null;
  /** Stored, but the endpoints leave it out unless `exposeUserAgent` is set. */
  userAgent?: string | null;
  error: string | null;
  origin: AuditOrigin;
  eventName: string | null;
  method: string | null;
  path: string | null;
  statusCode: number | null;
  /** As given (`{}` when none): better-auth-audit-logs' shape. */
  metadata: Record<string, unknown>;
  createdAt: Date;
}

export const statusOf = (outcome: AuditOutcome): AuditStatus => (outcome === "failure" ? "failed" : "success");
/** Reads both words: ours ("failure") and the peer's ("failed"). */
export const outcomeOf = (status: string): AuditOutcome => (status === "failed" || status === "failure" ? "failure" : "success");

/** An exported log record as a stored entry; what the store keeps is what the processors left. */
export function entryFromRecord(record: ReadableLogRecord): AuditLogEntry {
  const [seconds, nanos] = record.hrTime;
  const event = fromAttributes(record.attributes, new Date(seconds * 1000 + Math.floor(nanos / 1e6)));
  return entryFromEvent(event, record.eventName ?? null);
}

export function entryFromEvent(event: AuditEvent, eventName: string | null = null): AuditLogEntry {
  return {
    id: event.id,
    action: event.action,
    outcome: event.outcome,
    status: statusOf(event.outcome),
    severity: event.severity,
    userId: event.userId ?? null,
    sessionId: event.sessionId ?? null,
    actorId: event.actorId ?? null,
    ipAddress: event.ipAddress ?? null,
    userAgent: event.userAgent ?? null,
    error: event.error ?? null,
    origin: event.origin ?? "server",
    eventName,
    method: event.method ?? null,
    path: event.path ?? null,
    statusCode: event.statusCode ?? null,
    metadata: event.metadata ? ordinaryObjects(unflatten(event.metadata).value) : {},
    createdAt: event.time,
  };
}

/**
 * unflatten's prototype-free objects (hostile keys already dropped) as ordinary ones: an entry is
 * handed to user code (a custom storage, tests' `toStrictEqual`, `metadata.hasOwnProperty`).
 */
function ordinaryObjects<T>(value: T): T {
  if (Array.isArray(value)) return value.map(ordinaryObjects) as T;
  if (value === null || typeof value !== "object" || value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    Object.defineProperty(out, key, { value: ordinaryObjects(child), enumerable: true, writable: true, configurable: true });
  }
  return out as T;
}

/** The entry without its user agent, unless asked: endpoints return this. */
export function publicEntry(entry: AuditLogEntry, exposeUserAgent: boolean): AuditLogEntry {
  if (exposeUserAgent) return entry;
  const { userAgent: _hidden, ...rest } = entry;
  return rest;
}
