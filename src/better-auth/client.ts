import type { BetterAuthClientPlugin, BetterFetch } from "better-auth/client";
import type { AuditSeverity } from "../event.js";
import type { AuditLogEntry } from "../store/entry.js";
import { AUDIT_LOG_ERROR_CODES } from "./error-codes.js";
import type { auditLog } from "./index.js";

/** Query of `listAuditLogs` (GET /audit-log/list). */
export interface ListAuditLogsQuery {
  userId?: string;
  all?: boolean;
  action?: string;
  /** `failed` is accepted as better-auth-audit-logs' word for `failure`. */
  status?: "success" | "failure" | "failed";
  severity?: AuditSeverity;
  origin?: "server" | "client";
  /** ISO 8601. */
  from?: string;
  to?: string;
  limit?: number;
  offset?: number;
}

export interface ListAuditLogsResponse {
  entries: AuditLogEntry[];
  total: number;
  limit: number;
  offset: number;
}

export interface InsertAuditLogBody {
  action: string;
  status?: "success" | "failed" | "failure";
  outcome?: "success" | "failure";
  severity?: AuditSeverity;
  metadata?: Record<string, unknown>;
}

/**
 * What `insertAuditLog` answers: better-auth-audit-logs' `{ success: true }` with the stored entry's
 * fields (none when `beforeLog` dropped the event).
 */
export type InsertAuditLogResponse = { success: true } & Partial<AuditLogEntry>;

type FetchOptions = Record<string, unknown>;
/** The endpoints' error body: `code` is one of AUDIT_LOG_ERROR_CODES or better-auth's own (VALIDATION_ERROR, UNAUTHORIZED). */
export interface AuditLogError {
  code?: string;
  message?: string;
}

/**
 * The client half of `auditLog()`: `createAuthClient({ plugins: [auditLogClient()] })`. Besides the
 * inferred `authClient.auditLog.list / insert`, it keeps better-auth-audit-logs' names:
 * `authClient.auditLog.listAuditLogs({ query })`, `getAuditLog({ params: { id } })`,
 * `insertAuditLog({ action, status, metadata })`.
 */
export const auditLogClient = () =>
  ({
    id: "audit-log",
    $InferServerPlugin: {} as ReturnType<typeof auditLog>,
    pathMethods: { "/audit-log/list": "GET", "/audit-log/insert": "POST" },
    $ERROR_CODES: AUDIT_LOG_ERROR_CODES,
    // `$fetch` is annotated so the emitted .d.ts names better-auth's own re-export of BetterFetch: the
    // type TypeScript would infer there is an import of @better-fetch/fetch (not our dependency) that
    // consumers' createAuthClient() then refuses (TS2322)
    getActions: ($fetch: BetterFetch) => ({
      auditLog: {
        listAuditLogs: (data?: { query?: ListAuditLogsQuery; fetchOptions?: FetchOptions }) =>
          $fetch<ListAuditLogsResponse, AuditLogError>("/audit-log/list", { method: "GET", query: data?.query, ...data?.fetchOptions }),
        getAuditLog: (data: ({ params: { id: string } } | { id: string }) & { fetchOptions?: FetchOptions }) => {
          const id = "params" in data ? data.params.id : data.id;
          return $fetch<AuditLogEntry, AuditLogError>(`/audit-log/${encodeURIComponent(id)}`, { method: "GET", ...data.fetchOptions });
        },
        insertAuditLog: (data: InsertAuditLogBody & { fetchOptions?: FetchOptions }) => {
          const { fetchOptions, ...body } = data;
          return $fetch<InsertAuditLogResponse, AuditLogError>("/audit-log/insert", { method: "POST", body, ...fetchOptions });
        },
      },
    }),
  }) satisfies BetterAuthClientPlugin;
