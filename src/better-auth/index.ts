import { context as otelContext, diag, type Context } from "@opentelemetry/api";
import { getCurrentAdapter, type BetterAuthOptions, type BetterAuthPlugin } from "better-auth";
import { createAuthMiddleware, getIP, getSessionFromCtx } from "better-auth/api";
import { AuditLogger } from "../emit.js";
import type { AuditEvent, AuditEventInput } from "../event.js";
import { AUDIT_LOG_MODEL, type StoreAdapter } from "../store/adapter.js";
import { attachDirectInsert, directInsertFor, type TableShape } from "../store/direct-insert.js";
import type { AuditPage, AuditQuery } from "../store/reader.js";
import { VERSION } from "../version.js";
import { isAdminSession, type AuditSession } from "./access.js";
import { actionFor, isReadPath, pathMatches, recordedPath, safeParams, SESSION_ENDING_PATHS } from "./actions.js";
import { AUDIT_LOG_ERROR_CODES } from "./error-codes.js";
import { hooksWithPeerNames } from "./hook-entry.js";
import { outcomeOf } from "./outcome.js";
import { withoutSecrets } from "./request-body.js";
import { userHashOf } from "./user-hash.js";
import { BruteForceDetector } from "../detect/brute-force.js";
import { otlpFromEnvironment } from "./otlp-fallback.js";
import { piiRedactionToOptions } from "../processors/redaction.js";
import { auditLogEndpoints, DEFAULT_MAX_METADATA_BYTES, DEFAULT_MAX_METADATA_DEPTH, type AuditLogRuntime } from "./routes.js";
import { auditLogSchemaWith } from "./schema.js";
import { checkStoreOptions, createPluginStore, usesDatabase, type PluginStore } from "./store.js";
import type { AuditLogOptions, CaptureOptions, PathConfig } from "./types.js";
import { auditLogOptionsSchema } from "./options.js";
import { parseOptions } from "../options.js";
import { AuditOptionsError } from "../errors.js";

export { auditHandler } from "./rate-limit.js";
export { auditLogFor } from "./instrumented.js";
export * from "./store-vocabulary.js";
export type { AuditLogHookEntry } from "./hook-entry.js";
export type { AuditLogOptions, CaptureOptions, PathConfig, PathOption, PiiRedactionOptions, RateLimitRule } from "./types.js";
export type { AuditSession } from "./access.js";
export { isAdminSession } from "./access.js";
export { AUDIT_LOG_ERROR_CODES, type AuditLogErrorCode } from "./error-codes.js";
export { auditLogSchema, type AuditLogSchemaOptions } from "./schema.js";
export { deleteExpiredAuditLogs } from "./store.js";
export { MemoryStorage, type MemoryStorageOptions } from "../store/memory-storage.js";
export type { AuditLogEntry, AuditStatus, AuditStatus as AuditLogStatus } from "../store/entry.js";
export type { AuditStorage, AuditStorage as AuditLogStorage, StorageReadOptions, StorageReadResult } from "../store/storage.js";
export type { RetentionOptions, RetentionOptions as RetentionConfig } from "../store/retention.js";
export type { StoreBatchOptions } from "../store/write-batcher.js";

type HookContext = { path?: string; context?: object } | null;

const DEFAULT_CAPTURE: CaptureOptions = { ipAddress: true, userAgent: true, requestBody: false };
/** better-auth-audit-logs' limit: 60 requests a minute per endpoint. */
const DEFAULT_RATE_LIMIT = { window: 60, max: 60 };
/**
 * better-auth-audit-logs' before-hook paths. Their subject is already known without one (the
 * session.delete database hook, or the session the after-hook still sees); paths added to
 * `beforePaths` get a before-hook that looks the session up.
 */
const DEFAULT_BEFORE_PATHS = ["/sign-out", "/delete-user", "/revoke-session", "/revoke-sessions", "/revoke-other-sessions"];
/** How many deleted users' ids are remembered, so their late records are stored without the id. */
const FORGOTTEN_USERS_KEPT = 1000;

interface SessionLike {
  session?: { id?: string; userId?: string; impersonatedBy?: string | null } | null;
  user?: { id?: string } | null;
}
/**
 * The subject of a request that has no session when the after-hook runs, caught by database hooks:
 * the session sign-out deleted, the user a reset-password token belonged to.
 */
type Subject = { sessionId?: string; userId?: string };

/** What the plugin object offers the server beside better-auth's fields: `auditLog().audit`. */
export interface AuditLogHandle {
  /** The AuditLogger the plugin emits with: `record()` manual events that reach OTLP and the store. */
  logger: AuditLogger;
  /** Resolves when every record emitted so far (background ones too) is in the store. */
  flush(): Promise<void>;
  /** Reads the store (after better-auth has initialised: `await auth.$context`). */
  list(query: AuditQuery): Promise<AuditPage>;
  get(id: string): ReturnType<NonNullable<PluginStore["reader"]>["get"]>;
  /** Runs the retention sweep now; resolves to the rows deleted. */
  sweep(): Promise<number>;
}

/** The AuditLogger's own options: with a ready `logger` they would be ignored, so they are refused. */
const LOGGER_OPTIONS = ["beforeLog", "afterLog", "severity", "severityMapping", "loggerProvider"] as const;

function refuseLoggerOptionsBeside(options: AuditLogOptions): void {
  if (!options.logger) return;
  const given = LOGGER_OPTIONS.find((key) => options[key] !== undefined);
  if (!given) return;
  throw new AuditOptionsError(
    `otel-auth-audit: auditLog: option \`${given}\` has no effect beside \`logger\`: give it to that AuditLogger (with auditLogFor, to the instrumentation's own options, not to \`betterAuth\`)`,
    given,
    "auditLog",
  );
}

/**
 * The better-auth server plugin: every auth endpoint but reads becomes one OTel log record, sent
 * to the LoggerProvider (OTLP) and, by default, stored in the app's own database for the
 * `/audit-log/*` endpoints. `betterAuth({ plugins: [auditLog()] })`.
 */
export function auditLog(options: AuditLogOptions = {}) {
  parseOptions("auditLog", auditLogOptionsSchema, options);
  checkStoreOptions(options);
  refuseLoggerOptionsBeside(options);
  const capture = { ...DEFAULT_CAPTURE, ...options.capture };
  const paths = (options.paths ?? []).map((p) => (typeof p === "string" ? { path: p, config: {} as PathConfig } : { path: p.path, config: p.config ?? {} }));
  const logger =
    options.logger ??
    new AuditLogger({
      loggerProvider: options.loggerProvider,
      whenNoGlobalProvider: () => otlpFromEnvironment(piiRedactionToOptions(options.piiRedaction)),
      enabled: options.enabled,
      severity: options.severity,
      severityMapping: options.severityMapping,
      ...hooksWithPeerNames(options),
    });
  if (options.bruteForce) new BruteForceDetector(options.bruteForce === true ? {} : options.bruteForce).attach(logger);
  // keyed by the request's AuthContext, which the database hook and the after-hook share
  const subjects = new WeakMap<object, Subject>();
  const remember = (ctx: { context?: object } | null, subject: Subject) => {
    if (ctx?.context && !subjects.has(ctx.context)) subjects.set(ctx.context, subject);
  };

  const configFor = (template: string, path: string): PathConfig | undefined => {
    if (paths.length === 0) return {};
    return paths.find((p) => pathMatches(p.path, template, path))?.config;
  };

  const lookupPaths = (options.beforePaths ?? DEFAULT_BEFORE_PATHS).filter((p) => !DEFAULT_BEFORE_PATHS.includes(p));
  // the matcher runs on every request (get-session on every page): decide each route template once
  const audited = new Map<string, boolean>();
  const isAudited = (template: string): boolean => {
    let yes = audited.get(template);
    if (yes === undefined) {
      yes = !isReadPath(template);
      if (audited.size < 1000) audited.set(template, yes);
    }
    return yes;
  };

  const database = usesDatabase(options);
  let store: PluginStore | undefined;
  // background emits (nonBlocking) not yet handed to the pipeline: reads wait for them too
  const inFlight = new Set<Promise<unknown>>();
  const forgotten = new Set<string>();
  const forget = (userId: string) => {
    forgotten.add(userId);
    if (forgotten.size > FORGOTTEN_USERS_KEPT) forgotten.delete(forgotten.values().next().value as string);
  };
  // a custom storage alone needs no adapter: it works before (and without) better-auth's init
  if (!database && options.storage) store = createPluginStore(options, logger, undefined, forgotten);
  const flush = async () => {
    while (inFlight.size > 0) await Promise.all([...inFlight]);
    await store?.pipeline.flush();
  };
  const adminRule = (custom: AuditLogOptions["canReadAll"]) => async (session: AuditSession, authOptions: BetterAuthOptions) =>
    custom ? !!(await custom(session)) : isAdminSession(session, authOptions);

  const runtime: AuditLogRuntime = {
    logger,
    reader: () => store?.reader,
    flush,
    canReadAll: adminRule(options.canReadAll),
    canInsertPrivileged: adminRule(options.canInsertPrivileged ?? options.canReadAll),
    exposeUserAgent: options.exposeUserAgent ?? false,
    insert:
      options.insert === false
        ? false
        : {
            maxMetadataBytes:
              options.insert?.maxMetadataBytes ??
              (options.metadataLimits === false ? Number.POSITIVE_INFINITY : (options.metadataLimits?.maxBytes ?? DEFAULT_MAX_METADATA_BYTES)),
            maxMetadataDepth: options.metadataLimits === false ? Number.POSITIVE_INFINITY : (options.metadataLimits?.maxDepth ?? DEFAULT_MAX_METADATA_DEPTH),
          },
    stored: async (id) => {
      if (!store) return undefined;
      await flush();
      return store.whenStored(id);
    },
    capture: { ipAddress: capture.ipAddress, userAgent: capture.userAgent },
  };

  const readerOf = () => {
    if (!store?.reader) throw new Error("auditLog: no readable store yet (await auth.$context first, and keep store or storage.read)");
    return store.reader;
  };
  const audit: AuditLogHandle = {
    logger,
    flush,
    list: async (query) => {
      await flush();
      return readerOf().list(query);
    },
    get: async (id) => {
      await flush();
      return readerOf().get(id);
    },
    sweep: async () => (store?.sweeper ? store.sweeper.sweep() : 0),
  };

  // the after-hook's context, as far as the record needs it
  type EndpointContext = Parameters<Parameters<typeof createAuthMiddleware>[0]>[0];
  const knownProvider = (ctx: { context?: unknown }) => (id: string) => {
    const providers = (ctx.context as { socialProviders?: unknown } | undefined)?.socialProviders;
    return Array.isArray(providers) && providers.some((p) => p !== null && typeof p === "object" && (p as { id?: unknown }).id === id);
  };
  const safeParamsOf = (ctx: { params?: unknown; context?: unknown }) => safeParams(ctx.params as Record<string, unknown> | undefined, knownProvider(ctx));

  // the action and path of a route without safe params (nearly every one) depend on its template alone
  const templateNames = new Map<string, { action: string; path: string }>();
  const namesOf = (template: string, safe: Record<string, string>): { action: string; path: string } => {
    const safeNone = Object.keys(safe).length === 0;
    let names = safeNone ? templateNames.get(template) : undefined;
    if (!names) {
      names = { action: actionFor(template, safe), path: recordedPath(template, safe) };
      if (safeNone && templateNames.size < 1000) templateNames.set(template, names);
    }
    return names;
  };

  /** Builds the endpoint's record and emits it; returns the emit to wait for (blocking mode), none in the background. */
  const recordEndpoint = (ctx: EndpointContext): Promise<unknown> | undefined => {
    const template = ctx.path as string;
    const safe = safeParamsOf(ctx);
    const { action, path } = namesOf(template, safe);
    const pathConfig = configFor(template, path) ?? {};

    const want = pathConfig.capture ? { ...capture, ...pathConfig.capture } : capture;
    const { outcome, statusCode, error } = outcomeOf(ctx.context.returned);
    const authCtx = ctx.context as unknown as { session?: SessionLike | null; newSession?: SessionLike | null };
    const session = authCtx.session ?? authCtx.newSession ?? null;
    const subject = subjects.get(ctx.context);
    const body = (ctx.body ?? {}) as Record<string, unknown>;
    const headers = ctx.request?.headers ?? ctx.headers;

    let userId: string | null = session?.user?.id ?? subject?.userId ?? null;
    let actorId: string | undefined = session?.session?.impersonatedBy ?? undefined;
    const metadata: Record<string, unknown> = {};
    // admin endpoints act on another user: the admin is the actor, body.userId the subject —
    // once better-auth accepted it; a refused one is only what the caller typed, so it stays
    // in metadata, where redaction sees it, never in the structural `user.id`
    if (template.startsWith("/admin/") && typeof body.userId === "string") {
      actorId = userId ?? undefined;
      if (outcome === "success") userId = body.userId;
      else metadata.target_user_id = body.userId;
    }

    const provider = safe.id ?? safe.providerId ?? body.provider;
    if (typeof provider === "string") metadata.provider = provider;
    if (want.requestBody && ctx.body && typeof ctx.body === "object") metadata.requestBody = withoutSecrets(ctx.body);

    const input: AuditEventInput = {
      action,
      userHash: action.startsWith("sign-in") ? userHashOf(body, ctx.context.secret, ctx.context.options) : undefined,
      outcome,
      severity: pathConfig.severity,
      userId,
      sessionId: session?.session?.id ?? subject?.sessionId,
      actorId: actorId && actorId !== userId ? actorId : undefined,
      ipAddress: want.ipAddress ? (getIP(ctx.request ?? ctx.headers ?? new Headers(), ctx.context.options) ?? undefined) : undefined,
      userAgent: want.userAgent ? (headers?.get("user-agent") ?? undefined) : undefined,
      method: ctx.request?.method ?? (typeof ctx.method === "string" ? ctx.method : undefined),
      path,
      route: template,
      statusCode,
      error,
      metadata: Object.keys(metadata).length > 0 ? metadata : undefined,
    };
    const event = logger.complete(input);
    if (options.nonBlocking) {
      const active = otelContext.active();
      // in the background nothing may throw: a refused record (a full spool under
      // overflow "reject") is counted and reported by the pipeline, never an uncaught error
      const done = new Promise<void>((resolve) => setImmediate(() => resolve(emitInBackground(logger, event, active))));
      inFlight.add(done);
      void done.finally(() => inFlight.delete(done));
      // a waitUntil-style runner keeps the process until the record's row is written
      ctx.context.runInBackground(done.then(() => store?.settled()).then(noop, noop));
      return undefined;
    }
    const emitted = logger.emit(event);
    // the row follows in its batch: only a configured runner (waitUntil) needs to wait for it
    if (store && ctx.context.options?.advanced?.backgroundTasks?.handler) ctx.context.runInBackground(emitted.then(() => store?.settled()).then(noop, noop));
    return emitted;
  };

  /**
   * better-auth runs an after-hook as `handler(endpointContext)` and reads `{ headers, response }`
   * back. The record needs nothing createAuthMiddleware would add: its second context per request
   * (cookies parsed, a score of helper closures) is left out. Audit never breaks auth: whatever goes
   * wrong while building the record is reported, not thrown.
   */
  const afterHook = (ctx: EndpointContext): Promise<HookResult> => {
    try {
      const emitted = recordEndpoint(ctx);
      if (emitted) return emitted.then(nothingToAdd, hookFailed);
    } catch (error) {
      return Promise.resolve(hookFailed(error));
    }
    return Promise.resolve(nothingToAdd());
  };

  const plugin = {
    id: "audit-log",
    version: VERSION,
    init(ctx) {
      if (database) {
        store?.close();
        const tables = (ctx as { tables?: Record<string, TableShape | undefined> }).tables;
        attachDirectInsert(ctx.adapter, directInsertFor(ctx.options?.database, tables?.[AUDIT_LOG_MODEL], ctx.options?.advanced?.database?.generateId));
        store = createPluginStore(options, logger, ctx.adapter as unknown as StoreAdapter, forgotten);
      }
      return {
        options: {
          databaseHooks: {
            user: {
              delete: {
                // a deleted user's records stay, without the id (as the FK's ON DELETE SET NULL does,
                // also on adapters and databases that do not enforce it)
                async after(user: { id?: string }, hookCtx: HookContext) {
                  if (!user.id) return;
                  forget(user.id);
                  if (!database) return;
                  const base = ((hookCtx?.context as { adapter?: unknown } | undefined)?.adapter ?? ctx.adapter) as Parameters<typeof getCurrentAdapter>[0];
                  const adapter = (await getCurrentAdapter(base)) as unknown as StoreAdapter;
                  await adapter.updateMany({ model: AUDIT_LOG_MODEL, where: [{ field: "userId", value: user.id }], update: { userId: null } });
                },
              },
            },
            session: {
              delete: {
                async before(session: { id?: string; userId?: string }, ctx: HookContext) {
                  if (ctx?.path && SESSION_ENDING_PATHS.has(ctx.path)) remember(ctx, { sessionId: session.id, userId: session.userId });
                },
              },
            },
            verification: {
              delete: {
                async before(verification: { identifier?: string; value?: string }, ctx: HookContext) {
                  if (ctx?.path === "/reset-password" && verification.identifier?.startsWith("reset-password:")) {
                    remember(ctx, { userId: verification.value });
                  }
                },
              },
            },
          },
        },
      };
    },
    hooks: {
      before: lookupPaths.length === 0 || options.enabled === false ? [] : [
        {
          matcher: (ctx) =>
            logger.enabled && options.enabled !== false && !!ctx.path && lookupPaths.some((p) => ctx.path!.startsWith(p)) && configFor(ctx.path, recordedPath(ctx.path, safeParamsOf(ctx))) !== undefined,
          handler: createAuthMiddleware(async (ctx) => {
            // the subject before the endpoint runs, for a path that may end the session
            try {
              const found = await getSessionFromCtx(ctx);
              if (found) remember(ctx, { userId: found.user.id, sessionId: found.session.id });
            } catch {
              // no session: the record names no subject, as without the lookup
            }
          }),
        },
      ],
      // disabled: no hooks at all, as better-auth-audit-logs (nothing runs per request)
      after: options.enabled === false ? [] : [
        {
          matcher: (ctx) =>
            logger.enabled &&
            options.enabled !== false &&
            !!ctx.path &&
            isAudited(ctx.path) &&
            (paths.length === 0 || configFor(ctx.path, recordedPath(ctx.path, safeParamsOf(ctx))) !== undefined),
          handler: afterHook as unknown as ReturnType<typeof createAuthMiddleware>,
        },
      ],
    },
    endpoints: auditLogEndpoints(runtime),
    schema: database ? auditLogSchemaWith(options.schema) : undefined,
    rateLimit: [
      { pathMatcher: (path: string) => path.startsWith("/audit-log/") && path !== "/audit-log/insert", ...(options.rateLimit?.read ?? DEFAULT_RATE_LIMIT) },
      { pathMatcher: (path: string) => path === "/audit-log/insert", ...(options.rateLimit?.insert ?? DEFAULT_RATE_LIMIT) },
    ],
    $ERROR_CODES: AUDIT_LOG_ERROR_CODES,
    options,
  } satisfies BetterAuthPlugin;
  return Object.assign(plugin, { audit });
}

const noop = () => {};

/** What an after-hook hands back to better-auth: no headers, the endpoint's own response. */
type HookResult = { headers?: Headers; response?: unknown };
const nothingToAdd = (): HookResult => ({});

function hookFailed(error: unknown): HookResult {
  diag.error("otel-auth-audit: the audit hook failed; the request is answered as if there were no audit", error);
  return {};
}

function emitInBackground(logger: AuditLogger, event: AuditEvent, ctx: Context): Promise<void> {
  try {
    return logger.emit(event, ctx).then(noop, reportBackgroundFailure);
  } catch (error) {
    reportBackgroundFailure(error);
    return Promise.resolve();
  }
}

function reportBackgroundFailure(error: unknown): void {
  diag.error("otel-auth-audit: a nonBlocking audit record was not accepted by the pipeline", error);
}
