import { diag } from "@opentelemetry/api";
import { isSignInAttempt } from "./failures.js";
import { infoFromNodeRequest, infoFromRequest, newScope, runInScope, type NodeRequestLike, type RequestScope } from "./request-context.js";
import { auditOf, type Audited } from "./with-audit.js";
import { AuditOptionsError } from "../errors.js";

/** The parts of a Node/Next.js API response (`NextApiResponse`) read after the handler ran. */
interface NodeResponseLike {
  statusCode?: number;
  getHeader?(name: string): unknown;
  json?(body: unknown): unknown;
  send?(body: unknown): unknown;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyHandler = (...args: any[]) => unknown;

/**
 * Runs an Auth.js route handler with its request in scope, so every record gets `client.address`,
 * `user_agent.original`, `url.path` and `http.request.method`; and records the failed sign-ins
 * next-auth 4 only answers with 401 / 403 or an `?error=` redirect (or `{ url }` JSON). Fits
 * `(request: Request) => Response` (Auth.js v5, next-auth 4 App Router) and `(req, res)`
 * (next-auth 4 Pages Router). `config` (the one `withAudit` returned) is needed for next-auth 4;
 * v5 records through the config the handler already uses.
 */
export function auditHandler<H extends AnyHandler>(handler: H, config?: object): H {
  const fixed = config === undefined ? undefined : auditOf(config);
  if (config !== undefined && !fixed && typeof config !== "function") {
    throw new AuditOptionsError("otel-auth-audit: auditHandler: option `config` must be the config returned by withAudit(config)", "config", "auditHandler");
  }
  const audited = async function (this: unknown, ...args: unknown[]) {
    const [req, res] = args;
    const web = req instanceof Request;
    const scope = newScope(web ? infoFromRequest(req) : infoFromNodeRequest(req as NodeRequestLike));
    const node = !web && res && typeof res === "object" ? (res as NodeResponseLike) : undefined;
    const sent = node ? captureBody(node) : undefined;
    const result = await runInScope(scope, () => handler.apply(this, args));
    const audit = fixed ?? (scope.owner as Audited | undefined);
    if (audit?.recorder.enabled && !scope.signedIn && !scope.failureRecorded && isSignInAttempt(scope.request.authAction, scope.request.method)) {
      try {
        if (result instanceof Response) await recordWebResponse(audit, scope, result);
        else if (node) recordNodeResponse(audit, scope, node, sent?.());
      } catch (error) {
        diag.error("otel-auth-audit: could not read the Auth.js response", error);
      }
    }
    return result;
  };
  return audited as unknown as H;
}

/**
 * The App Router's route handlers wrapped once:
 * `export const { GET, POST } = auditHandlers(handlers)` (next-auth 5's `NextAuth(...)` result).
 */
export function auditHandlers<T extends { GET?: AnyHandler; POST?: AnyHandler }>(handlers: T, config?: object): T {
  return {
    ...handlers,
    ...(handlers.GET ? { GET: auditHandler(handlers.GET, config) } : {}),
    ...(handlers.POST ? { POST: auditHandler(handlers.POST, config) } : {}),
  };
}

/** next-auth 4 answers a `json: true` client with `res.json({ url })`: keep what was sent. */
function captureBody(res: NodeResponseLike): () => unknown {
  let body: unknown;
  for (const name of ["json", "send"] as const) {
    const original = res[name];
    if (typeof original !== "function") continue;
    res[name] = function (this: unknown, value: unknown) {
      body ??= value;
      return original.call(this, value);
    };
  }
  return () => body;
}

async function recordWebResponse(audit: Audited, scope: RequestScope, response: Response): Promise<void> {
  let url = response.headers.get("location") ?? undefined;
  // `json: true` clients (next-auth/react's signIn) get `{ url }` instead of a redirect
  if (!url && response.headers.get("content-type")?.includes("application/json")) {
    url = urlOf(await response.clone().json().catch(() => undefined));
  }
  runInScope(scope, () => audit.responseFailure(scope, response.status, url));
}

function recordNodeResponse(audit: Audited, scope: RequestScope, res: NodeResponseLike, sent: unknown): void {
  const location = res.getHeader?.("location");
  const url = typeof location === "string" ? location : urlOf(sent);
  runInScope(scope, () => audit.responseFailure(scope, res.statusCode ?? 200, url));
}

const urlOf = (body: unknown): string | undefined => {
  const url = body && typeof body === "object" ? (body as { url?: unknown }).url : undefined;
  return typeof url === "string" ? url : undefined;
};
