import { getIP } from "better-auth/api";
import type { AuditLogger } from "../emit.js";
import { actionFor, templateOf } from "./actions.js";
import { userHashOf } from "./user-hash.js";

interface AuthLike {
  handler: (request: Request) => Promise<Response>;
  /** The endpoints: their `path` is the route template. */
  api?: Record<string, unknown>;
  options: { basePath?: string; secret?: string; plugins?: Array<{ id: string; audit?: { logger: AuditLogger } }> } & Record<string, unknown>;
}

/** What a throttled request to a path no endpoint serves is recorded as. */
const UNKNOWN_ROUTE = "/unknown-route";

/** Paths whose throttled requests say which account was tried: their body is kept until the answer is known. */
const ATTEMPT_PATH = /\/(sign-in|sign-up|two-factor|email-otp|phone-number|forget-password|request-password-reset)/;

/**
 * better-auth answers rate-limited requests (429) before any plugin hook runs, and 1.7 offers a
 * plugin no hook around its limiter, so throttling is invisible to `auditLog()`. Wrapping the
 * handler makes each 429 a failure record (`error.type` `RATE_LIMITED`) that the brute-force
 * detector counts: `export const { GET, POST } = toNextJsHandler(auditHandler(auth))`.
 */
export function auditHandler(auth: AuthLike): (request: Request) => Promise<Response> {
  const plugin = auth.options.plugins?.find((p) => p.id === "audit-log");
  const logger = plugin?.audit?.logger;
  if (!logger) throw new Error("auditHandler: add auditLog() to the plugins of this betterAuth instance first");
  const basePath = auth.options.basePath ?? "/api/auth";
  const templates = new Set<string>();
  for (const endpoint of Object.values(auth.api ?? {})) {
    const path = (endpoint as { path?: unknown } | null)?.path;
    if (typeof path === "string") templates.add(path);
  }
  return async (request) => {
    const requested = new URL(request.url).pathname.replace(basePath, "") || "/";
    // the URL is the caller's: only a known route's template is recorded, never its parameter values
    const route = templateOf(requested, templates);
    const path = route ?? UNKNOWN_ROUTE;
    const copy = request.method === "POST" && ATTEMPT_PATH.test(path) ? request.clone() : undefined;
    const response = await auth.handler(request);
    if (response.status !== 429 || !logger.enabled) return response;
    const body = copy ? await copy.json().catch(() => ({})) : {};
    const ip = getIP(request, auth.options as never) ?? undefined;
    void logger.emit(
      logger.complete({
        action: actionFor(path),
        outcome: "failure",
        userHash: typeof auth.options.secret === "string" && body && typeof body === "object" ? userHashOf(body as Record<string, unknown>, auth.options.secret, auth.options) : undefined,
        ipAddress: ip,
        userAgent: request.headers.get("user-agent") ?? undefined,
        method: request.method,
        path,
        route,
        statusCode: 429,
        error: "RATE_LIMITED",
        metadata: { retry_after_seconds: Number(response.headers.get("x-retry-after")) || undefined },
      }),
    );
    return response;
  };
}
