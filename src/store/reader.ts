import type { AuditEvent, AuditOutcome, AuditSeverity } from "../event.js";

/** What to list: every field narrows the result; `from`/`to` bound the event time. */
export interface AuditQuery {
  userId?: string;
  action?: string;
  outcome?: AuditOutcome;
  severity?: AuditSeverity;
  from?: Date;
  to?: Date;
  /** Page size. */
  limit?: number;
  /** Entries to skip, newest first. */
  offset?: number;
}

/** One page of audit events, newest first, and how many match the query in all. */
export interface AuditPage {
  entries: AuditEvent[];
  total: number;
}

/** Reads audit events back from where they were stored (the app's database, Loki …). */
export interface AuditReader {
  list(query?: AuditQuery): Promise<AuditPage>;
  get(id: string): Promise<AuditEvent | null>;
}
