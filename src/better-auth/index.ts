import { context as otelContext } from "@opentelemetry/api";
import type { BetterAuthPlugin } from "better-auth";
import { AuditLogger } from "../emit.js";
import type { AuditEventInput } from "../event.js";
import { VERSION } from "../version.js";
import { betterAuthApi } from "./api.js";
import { actionFor, concretePath, isReadPath, pathMatches, SESSION_ENDING_PATHS } from "./actions.js";
import { outcomeOf } from "./outcome.js";
import { withoutSecrets } from "./request-body.js";
import { userHashOf } from "./user-hash.js";
import { pluginLoggers } from "./plugin-loggers.js";
import { BruteForceDetector } from "../detect/brute-force.js";
import type { AuditLogOptions, CaptureOptions, PathConfig } from "./types.js";

export { auditHandler } from "./rate-limit.js";
export type { AuditLogOptions, CaptureOptions, PathConfig, PathOption } from "./types.js";

type HookContext = { path?: string; context?: object } | null;

const DEFAULT_CAPTURE: CaptureOptions = { ipAddress: true, userAgent: true, requestBody: false };

interface SessionLike {
  session?: { id?: string; userId?: string; impersonatedBy?: string | null } | null;
  user?: { id?: string } | null;
}
/**
 * The subject of a request that has no session when the after-hook runs, caught by database hooks:
 * the session sign-out deleted, the user a reset-password token belonged to.
 */
type Subject = { sessionId?: string; userId?: string };

/**
 * The better-auth server plugin: every auth endpoint but reads becomes one OTel log record.
 * `betterAuth({ plugins: [auditLog()] })`.
 */
export function auditLog(options: AuditLogOptions = {}) {
  const { createAuthMiddleware, getIP } = betterAuthApi();
  const capture = { ...DEFAULT_CAPTURE, ...options.capture };
  const paths = (options.paths ?? []).map((p) => (typeof p === "string" ? { path: p, config: {} as PathConfig } : { path: p.path, config: p.config ?? {} }));
  const logger =
    options.logger ??
    new AuditLogger({
      loggerProvider: options.loggerProvider,
      enabled: options.enabled,
      severity: options.severity,
      severityMapping: options.severityMapping,
      beforeLog: options.beforeLog,
      afterLog: options.afterLog,
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

  const plugin = {
    id: "audit-log",
    version: VERSION,
    init() {
      return {
        options: {
          databaseHooks: {
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
      after: [
        {
          matcher: (ctx) =>
            logger.enabled && options.enabled !== false && !!ctx.path && !isReadPath(ctx.path) && configFor(ctx.path, concretePath(ctx.path, ctx.params)) !== undefined,
          handler: createAuthMiddleware(async (ctx) => {
            const template = ctx.path as string;
            const params = ctx.params as Record<string, unknown> | undefined;
            const path = concretePath(template, params);
            const pathConfig = configFor(template, path) ?? {};
            const want = { ...capture, ...pathConfig.capture };
            const { outcome, statusCode, error } = outcomeOf(ctx.context.returned);
            const authCtx = ctx.context as unknown as { session?: SessionLike | null; newSession?: SessionLike | null };
            const session = authCtx.session ?? authCtx.newSession ?? null;
            const subject = subjects.get(ctx.context);
            const body = (ctx.body ?? {}) as Record<string, unknown>;
            const headers = ctx.request?.headers ?? ctx.headers;

            let userId: string | null = session?.user?.id ?? subject?.userId ?? null;
            let actorId: string | undefined = session?.session?.impersonatedBy ?? undefined;
            // admin endpoints act on another user: the admin is the actor, body.userId the subject
            if (template.startsWith("/admin/") && typeof body.userId === "string") {
              actorId = userId ?? undefined;
              userId = body.userId;
            }

            const metadata: Record<string, unknown> = {};
            const provider = typeof params?.id === "string" ? params.id : typeof params?.providerId === "string" ? params.providerId : body.provider;
            if (typeof provider === "string") metadata.provider = provider;
            if (want.requestBody && ctx.body && typeof ctx.body === "object") metadata.requestBody = withoutSecrets(ctx.body);

            const action = actionFor(template, params);
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
              statusCode,
              error,
              metadata: Object.keys(metadata).length > 0 ? metadata : undefined,
            };
            const event = logger.complete(input);
            if (options.nonBlocking) {
              const active = otelContext.active();
              ctx.context.runInBackground(new Promise<void>((resolve) => setImmediate(() => resolve(void logger.emit(event, active)))));
            } else {
              await logger.emit(event);
            }
          }),
        },
      ],
    },
    options,
  } satisfies BetterAuthPlugin;
  pluginLoggers.set(plugin, logger);
  return plugin;
}
