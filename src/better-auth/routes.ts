import { APIError, createAuthEndpoint, getIP, sessionMiddleware } from "better-auth/api";
import type { BetterAuthOptions } from "better-auth";
import * as z from "zod";
import { eventNameFor } from "../attributes.js";
import type { AuditLogger } from "../emit.js";
import { AUDIT_SEVERITIES, type AuditOutcome, type AuditSeverity } from "../event.js";
import { entryFromEvent, outcomeOf, publicEntry, type AuditLogEntry } from "../store/entry.js";
import { DEFAULT_LIST_LIMIT, type AuditQuery, type AuditReader } from "../store/reader.js";
import type { AuditSession } from "./access.js";
import { AUDIT_LOG_ERROR_CODES as CODES } from "./error-codes.js";
import { isServerOnlyAction } from "../action-names.js";

export const MAX_LIST_LIMIT = 500;
export const DEFAULT_MAX_METADATA_BYTES = 8 * 1024;
/** better-auth-audit-logs' default depth limit (`{ a: { b: 1 } }` is depth 2). */
export const DEFAULT_MAX_METADATA_DEPTH = 5;
const ACTION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9:._\-/]{0,199}$/;
const PRIVILEGED_SEVERITIES: readonly AuditSeverity[] = ["high", "critical"];

/** What the endpoints need from the plugin; resolved per request because the store exists only after init. */
export interface AuditLogRuntime {
  logger: AuditLogger;
  reader(): AuditReader | undefined;
  /** Waits until every record emitted so far is in the store. */
  flush(): Promise<void>;
  canReadAll(session: AuditSession, authOptions: BetterAuthOptions): Promise<boolean>;
  canInsertPrivileged(session: AuditSession, authOptions: BetterAuthOptions): Promise<boolean>;
  exposeUserAgent: boolean;
  /** false: the insert endpoint answers 404. */
  insert: false | { maxMetadataBytes: number; maxMetadataDepth: number };
  /** Waits until the record is in the store; resolves to the error that kept it out, if any. */
  stored(id: string): Promise<unknown>;
  capture: { ipAddress: boolean; userAgent: boolean };
}

/** better-auth-audit-logs' `{ success: true }`, with the stored entry's fields (none when beforeLog suppressed it). */
type InsertResult = { success: true } & Partial<AuditLogEntry>;

const severity = z.enum(AUDIT_SEVERITIES as [AuditSeverity, ...AuditSeverity[]]);
const flag = z.union([z.boolean(), z.enum(["true", "false"])]);

const listQuerySchema = z.object({
  userId: z.string().min(1).optional().meta({ description: "Whose records; default the signed-in user. Another user's need an admin." }),
  all: flag.optional().meta({ description: "Every user's records (admin only)." }),
  action: z.string().min(1).max(200).optional(),
  status: z.enum(["success", "failure", "failed"]).optional().meta({ description: "failed is better-auth-audit-logs' word for failure" }),
  severity: severity.optional(),
  origin: z.enum(["server", "client"]).optional(),
  from: z.string().optional().meta({ description: "ISO 8601, inclusive" }),
  to: z.string().optional().meta({ description: "ISO 8601, inclusive" }),
  limit: z.coerce.number().int().min(1).max(MAX_LIST_LIMIT).optional().meta({ description: `default ${DEFAULT_LIST_LIMIT}, at most ${MAX_LIST_LIMIT}` }),
  offset: z.coerce.number().int().min(0).optional(),
});

const insertBodySchema = z.object({
  action: z.string().meta({ description: "e.g. admin:user-export; admin:* needs an admin" }),
  status: z.enum(["success", "failed", "failure"]).optional().meta({ description: "default success" }),
  outcome: z.enum(["success", "failure"]).optional(),
  severity: severity.optional().meta({ description: "high and critical need an admin" }),
  metadata: z.record(z.string(), z.unknown()).optional(),
  /** Accepted only when it is the signed-in user: the subject is always the caller. */
  userId: z.string().optional(),
});

function parseDate(value: string | undefined): Date | undefined {
  if (value === undefined || value === "") return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw APIError.from("BAD_REQUEST", CODES.INVALID_DATE);
  return date;
}

function requireReader(runtime: AuditLogRuntime): AuditReader {
  const reader = runtime.reader();
  if (!reader) throw APIError.from("NOT_IMPLEMENTED", CODES.AUDIT_LOG_STORE_DISABLED);
  return reader;
}

export function auditLogEndpoints(runtime: AuditLogRuntime) {
  return {
    /** GET /audit-log/list: the caller's records, newest first; another user's or everyone's for an admin. */
    listAuditLogs: createAuthEndpoint(
      "/audit-log/list",
      {
        method: "GET",
        use: [sessionMiddleware],
        query: listQuerySchema,
        metadata: { openapi: { operationId: "listAuditLogs", summary: "List audit log entries", description: "Newest first. A user sees their own; others' need an admin." } },
      },
      async (ctx) => {
        const session = ctx.context.session as unknown as AuditSession;
        const reader = requireReader(runtime);
        const q = ctx.query;
        const self = session.user.id;
        const all = q.all === true || q.all === "true";
        if (all || (q.userId !== undefined && q.userId !== self)) {
          if (!(await runtime.canReadAll(session, ctx.context.options))) {
            throw APIError.from("FORBIDDEN", CODES.NOT_ALLOWED_TO_READ_OTHER_USERS_AUDIT_LOGS);
          }
        }
        const userId = all ? q.userId : (q.userId ?? self);
        const from = parseDate(q.from);
        const to = parseDate(q.to);
        if (from && to && from > to) throw APIError.from("BAD_REQUEST", CODES.INVALID_DATE_RANGE);
        const limit = q.limit ?? DEFAULT_LIST_LIMIT;
        const offset = q.offset ?? 0;
        const query: AuditQuery = {
          userId,
          action: q.action,
          outcome: q.status ? outcomeOf(q.status) : undefined,
          severity: q.severity,
          origin: q.origin,
          from,
          to,
          limit,
          offset,
        };
        await runtime.flush();
        const page = await reader.list(query);
        // a custom storage that ignores the userId filter still cannot leak another user's records
        const entries = userId === undefined ? page.entries : page.entries.filter((e) => e.userId === userId);
        return ctx.json({ entries: entries.map((e) => publicEntry(e, runtime.exposeUserAgent)), total: page.total, limit, offset });
      },
    ),

    /** GET /audit-log/:id: one entry; another user's answers 404 unless the caller is an admin. */
    getAuditLog: createAuthEndpoint(
      "/audit-log/:id",
      {
        method: "GET",
        use: [sessionMiddleware],
        metadata: { openapi: { operationId: "getAuditLog", summary: "Get one audit log entry" } },
      },
      async (ctx) => {
        const session = ctx.context.session as unknown as AuditSession;
        const reader = requireReader(runtime);
        await runtime.flush();
        const entry = await reader.get(ctx.params.id);
        // 404, not 403, so ids of other users' records are not confirmed to exist
        if (!entry) throw APIError.from("NOT_FOUND", CODES.AUDIT_LOG_NOT_FOUND);
        if (entry.userId !== session.user.id && !(await runtime.canReadAll(session, ctx.context.options))) {
          throw APIError.from("NOT_FOUND", CODES.AUDIT_LOG_NOT_FOUND);
        }
        return ctx.json(publicEntry(entry, runtime.exposeUserAgent));
      },
    ),

    /**
     * POST /audit-log/insert: a client-reported event about the caller, marked `audit.origin =
     * client`. admin:* actions and high/critical severities need an admin; a refused attempt is
     * itself recorded (server origin).
     */
    insertAuditLog: createAuthEndpoint(
      "/audit-log/insert",
      {
        method: "POST",
        use: [sessionMiddleware],
        body: insertBodySchema,
        metadata: { openapi: { operationId: "insertAuditLog", summary: "Record a client-reported audit event about the signed-in user" } },
      },
      async (ctx) => {
        const insert = runtime.insert;
        if (insert === false) throw APIError.fromStatus("NOT_FOUND");
        const session = ctx.context.session as unknown as AuditSession;
        const body = ctx.body;
        const self = session.user.id;
        // compatibility forms (fullwidth letters) are folded first; what remains must be plain ASCII
        const action = body.action.normalize("NFKC");
        if (!ACTION_PATTERN.test(action)) throw APIError.from("BAD_REQUEST", CODES.INVALID_ACTION);
        // better-auth-audit-logs' default: an insert without status is a success
        const outcome: AuditOutcome = body.outcome ?? (body.status ? outcomeOf(body.status) : "success");
        if (body.userId !== undefined && body.userId !== self) throw APIError.from("FORBIDDEN", CODES.NOT_ALLOWED_TO_INSERT_FOR_ANOTHER_USER);
        if (body.metadata !== undefined && exceedsDepth(body.metadata, insert.maxMetadataDepth)) {
          throw APIError.from("BAD_REQUEST", CODES.METADATA_TOO_DEEP);
        }
        if (body.metadata !== undefined && serializedSize(body.metadata) > insert.maxMetadataBytes) {
          throw APIError.from("BAD_REQUEST", CODES.METADATA_TOO_LARGE);
        }

        const headers = ctx.request?.headers ?? ctx.headers;
        const common = {
          userId: self,
          sessionId: session.session.id,
          actorId: session.session.impersonatedBy ?? undefined,
          ipAddress: runtime.capture.ipAddress ? (getIP(ctx.request ?? ctx.headers ?? new Headers(), ctx.context.options) ?? undefined) : undefined,
          userAgent: runtime.capture.userAgent ? (headers?.get("user-agent") ?? undefined) : undefined,
          method: "POST",
          path: "/audit-log/insert",
        };

        // compared in normalised form: `Admin:ban-user`, `admin/ban_user`, `brute-force:suspected` are all server-only
        const privileged = isServerOnlyAction(action) || (body.severity !== undefined && PRIVILEGED_SEVERITIES.includes(body.severity));
        const mayPrivileged = privileged || !body.severity ? await runtime.canInsertPrivileged(session, ctx.context.options) : false;
        if (privileged && !mayPrivileged) {
          await runtime.logger.emit(
            runtime.logger.complete({
              ...common,
              action: "audit-log:insert",
              outcome: "failure",
              severity: "high",
              statusCode: 403,
              error: CODES.NOT_ALLOWED_TO_INSERT_PRIVILEGED_AUDIT_LOG.code,
              metadata: { attemptedAction: action, attemptedSeverity: body.severity ?? null },
            }),
          );
          throw APIError.from("FORBIDDEN", CODES.NOT_ALLOWED_TO_INSERT_PRIVILEGED_AUDIT_LOG);
        }

        let event = runtime.logger.complete({
          ...common,
          action,
          outcome,
          severity: body.severity,
          statusCode: 200,
          metadata: body.metadata,
          origin: "client",
        });
        // a non-admin's claim never raises an alert by inference alone: high/critical become medium
        if (!body.severity && !mayPrivileged && PRIVILEGED_SEVERITIES.includes(event.severity)) event = { ...event, severity: "medium" };
        const emitted = await runtime.logger.emit(event);
        // beforeLog suppressed it: nothing to store; better-auth-audit-logs answers success too
        if (!emitted) return ctx.json<InsertResult>({ success: true });
        // the answer says whether the record is stored: a client told "success" can rely on it
        const failure = await runtime.stored(emitted.id);
        if (failure !== undefined) throw APIError.from("SERVICE_UNAVAILABLE", CODES.AUDIT_LOG_WRITE_FAILED);
        return ctx.json<InsertResult>({ success: true, ...publicEntry(entryFromEvent(emitted, eventNameFor(emitted.action, emitted.origin)), runtime.exposeUserAgent) });
      },
    ),
  };
}

/**
 * Whether a value nests deeper than `limit` as better-auth-audit-logs measures depth (`{ a: 1 }` 1,
 * `{ a: { b: 1 } }` 2); iterative, so no depth can overflow the stack.
 */
function exceedsDepth(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    for (const child of Object.values(v)) {
      if (depth + 1 > limit) return true;
      stack.push([child, depth + 1]);
    }
  }
  return false;
}

function serializedSize(value: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(value) ?? "", "utf8");
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}
