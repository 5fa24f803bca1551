import { AsyncLocalStorage } from "node:async_hooks";

/** What the audit trail keeps of the request an Auth.js event or error belongs to. */
export interface RequestInfo {
  /** The raw sources of `client.address`; the adapter's `trustedProxies` picks from them. */
  peerAddress?: string;
  forwardedFor?: string;
  realIp?: string;
  userAgent?: string;
  method?: string;
  path?: string;
  /** The Auth.js action: `callback`, `signin`, `signout`, `session`, `csrf`, `_log` … */
  authAction?: string;
  /** The provider segment of `/callback/<id>` and `/signin/<id>` (raw: checked against the config before use). */
  providerId?: string;
  /** The `email` query parameter of an e-mail sign-in link (`/callback/<email provider>?email=`), for `user.hash`. */
  emailParam?: string;
  /** The segments before the action (`/api/auth`), to rebuild a path whose provider segment is unknown. */
  basePath?: string;
}

/** One per request handled inside `auditHandler`, or built from `headers()` in a server action. */
export interface RequestScope {
  request: RequestInfo;
  /** A sign-in success was recorded: a redirect after it is no failure. */
  signedIn: boolean;
  /** A failure was already recorded for this request: the response must not record it again. */
  failureRecorded: boolean;
  /** The adapter that recorded in this request, for a handler wrapped without its config. */
  owner?: object;
}

const storage = new AsyncLocalStorage<RequestScope>();

export const currentScope = (): RequestScope | undefined => storage.getStore();

export const runInScope = <T>(scope: RequestScope, fn: () => T): T => storage.run(scope, fn);

export const newScope = (request: RequestInfo): RequestScope => ({ request, signedIn: false, failureRecorded: false });

const AUTH_ACTIONS = /^(.*)\/(callback|signin|signout|session|csrf|providers|error|verify-request|webauthn-options|_log)(?:\/([^/]+))?\/?$/;

type HeaderGetter = (name: string) => string | undefined;

function decode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function infoFrom(get: HeaderGetter, method: string | undefined, url: string | undefined, peerAddress?: string): RequestInfo {
  let path: string | undefined;
  let emailParam: string | undefined;
  if (url !== undefined) {
    try {
      const parsed = new URL(url, "http://relative.invalid");
      path = parsed.pathname;
      emailParam = parsed.searchParams.get("email") ?? undefined;
    } catch {
      path = undefined;
    }
  }
  const match = path ? AUTH_ACTIONS.exec(path) : null;
  return {
    peerAddress,
    forwardedFor: get("x-forwarded-for"),
    realIp: get("x-real-ip"),
    userAgent: get("user-agent"),
    method: method?.toUpperCase(),
    path,
    basePath: match?.[1],
    authAction: match?.[2],
    providerId: match?.[3] ? decode(match[3]) : undefined,
    emailParam: match?.[2] === "callback" ? emailParam : undefined,
  };
}

/** A web Request: Auth.js v5 route handlers, next-auth 4's App Router handler. */
export function infoFromRequest(request: Request): RequestInfo {
  return infoFrom((name) => request.headers.get(name) ?? undefined, request.method, request.url);
}

/** Only headers (Next.js `headers()` in a server action): no method, path or peer. */
export function infoFromHeaders(headers: { get(name: string): string | null | undefined }): RequestInfo {
  return infoFrom((name) => headers.get(name) ?? undefined, undefined, undefined);
}

/** The parts of a Node/Next.js API request (`NextApiRequest`) read here. */
export interface NodeRequestLike {
  headers: Record<string, string | string[] | undefined>;
  method?: string;
  url?: string;
  query?: Record<string, string | string[] | undefined>;
  socket?: { remoteAddress?: string };
}

/** next-auth 4's Pages Router handler `(req, res)`; `query.nextauth` names the action when present. */
export function infoFromNodeRequest(req: NodeRequestLike): RequestInfo {
  const get: HeaderGetter = (name) => {
    const value = req.headers[name];
    return Array.isArray(value) ? value.join(", ") : value;
  };
  const info = infoFrom(get, req.method, req.url, req.socket?.remoteAddress);
  const segments = req.query?.nextauth;
  if (Array.isArray(segments) && segments.length > 0) {
    info.authAction = segments[0];
    info.providerId = segments[1];
  }
  return info;
}
