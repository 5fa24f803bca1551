import { diag } from "@opentelemetry/api";
import { signInAction } from "./actions.js";
import { failureFromResponse, isSignInAttempt } from "./failures.js";
import type { AuthjsRecorder } from "./recorder.js";
import { infoFromNodeRequest, infoFromRequest, runInScope, type NodeRequestLike, type RequestScope } from "./request-context.js";
import type { AuthConfigLike } from "./types.js";
import { recorderOf } from "./with-audit.js";

/** The parts of a Node/Next.js API response (`NextApiResponse`) read after the handler ran. */
interface NodeResponseLike {
  statusCode?: number;
  getHeader?(name: string): unknown;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyHandler = (...args: any[]) => unknown;

/**
 * Runs an Auth.js route handler with its request in scope, so every record gets `client.address`,
 * `user_agent.original`, `url.path` and `http.request.method`; and records the failed sign-ins
 * next-auth 4 only answers with 401 / 403 or an `?error=` redirect. Takes the config `withAudit`
 * returned. Fits `(request: Request) => Response` (Auth.js v5, next-auth 4 App Router) and
 * `(req, res)` (next-auth 4 Pages Router).
 */
export function auditHandler<H extends AnyHandler>(handler: H, config: AuthConfigLike): H {
  const recorder = recorderOf(config);
  if (!recorder) throw new TypeError("auditHandler: pass the config returned by withAudit(config)");
  const audited = async function (this: unknown, ...args: unknown[]) {
    const [req, res] = args;
    const scope: RequestScope = {
      request: req instanceof Request ? infoFromRequest(req) : infoFromNodeRequest(req as NodeRequestLike),
      signedIn: false,
      failureRecorded: false,
    };
    const result = await runInScope(scope, () => handler.apply(this, args));
    if (recorder.enabled && !scope.signedIn && !scope.failureRecorded) {
      try {
        if (result instanceof Response) await recordWebResponse(recorder, scope, result);
        else if (res && typeof res === "object") recordNodeResponse(recorder, scope, res as NodeResponseLike);
      } catch (error) {
        diag.error("otel-auth-audit: could not read the Auth.js response", error);
      }
    }
    return result;
  };
  return audited as unknown as H;
}

async function recordWebResponse(recorder: AuthjsRecorder, scope: RequestScope, response: Response): Promise<void> {
  if (!isSignInAttempt(scope.request.authAction, scope.request.method)) return;
  let url = response.headers.get("location") ?? undefined;
  // `json: true` clients (next-auth/react's signIn) get `{ url }` instead of a redirect
  if (!url && response.headers.get("content-type")?.includes("application/json")) {
    const body = (await response.clone().json().catch(() => undefined)) as { url?: unknown } | undefined;
    if (typeof body?.url === "string") url = body.url;
  }
  runInScope(scope, () => recordResponseFailure(recorder, scope, response.status, url));
}

function recordNodeResponse(recorder: AuthjsRecorder, scope: RequestScope, res: NodeResponseLike): void {
  if (!isSignInAttempt(scope.request.authAction, scope.request.method)) return;
  const location = res.getHeader?.("location");
  runInScope(scope, () => recordResponseFailure(recorder, scope, res.statusCode ?? 200, typeof location === "string" ? location : undefined));
}

function recordResponseFailure(recorder: AuthjsRecorder, scope: RequestScope, status: number, url: string | undefined): void {
  const { providerId } = scope.request;
  const error = failureFromResponse(status, url);
  if (!error) return;
  recorder.record({
    action: signInAction(recorder.providerType(providerId)),
    outcome: "failure",
    userId: null,
    error,
    statusCode: status,
    metadata: providerId ? { provider: providerId } : undefined,
  });
}
