import { AsyncLocalStorage } from "node:async_hooks";

/** What the audit trail keeps of the request an Auth.js event or error belongs to. */
export interface RequestInfo {
  ipAddress?: string;
  userAgent?: string;
  method?: string;
  path?: string;
  /** The Auth.js action: `callback`, `signin`, `signout`, `session`, `csrf`, `_log` … */
  authAction?: string;
  /** The provider segment of `/callback/<id>` and `/signin/<id>`. */
  providerId?: string;
}

/** One per request handled inside `auditHandler`. */
export interface RequestScope {
  request: RequestInfo;
  /** A sign-in success was recorded: a redirect after it is no failure. */
  signedIn: boolean;
  /** A failure was recorded from Auth.js's logger (v5): the response must not record it again. */
  failureRecorded: boolean;
}

const storage = new AsyncLocalStorage<RequestScope>();

export const currentScope = (): RequestScope | undefined => storage.getStore();

export const runInScope = <T>(scope: RequestScope, fn: () => T): T => storage.run(scope, fn);

const AUTH_ACTIONS = /\/(callback|signin|signout|session|csrf|providers|error|verify-request|webauthn-options|_log)(?:\/([^/]+))?\/?$/;

type HeaderGetter = (name: string) => string | undefined;

function infoFrom(get: HeaderGetter, method: string | undefined, path: string | undefined, fallbackIp?: string): RequestInfo {
  const match = path ? AUTH_ACTIONS.exec(path) : null;
  return {
    ipAddress: clientAddress(get) ?? fallbackIp,
    userAgent: get("user-agent"),
    method: method?.toUpperCase(),
    path,
    authAction: match?.[1],
    providerId: match?.[2] ? decodeURIComponent(match[2]) : undefined,
  };
}

/** `x-forwarded-for`'s first hop (the client as the first proxy saw it), else `x-real-ip`. */
function clientAddress(get: HeaderGetter): string | undefined {
  const forwarded = get("x-forwarded-for")?.split(",")[0]?.trim();
  if (forwarded) return forwarded;
  return get("x-real-ip")?.trim() || undefined;
}

/** A web Request: Auth.js v5 route handlers, next-auth 4's App Router handler. */
export function infoFromRequest(request: Request): RequestInfo {
  let path: string | undefined;
  try {
    path = new URL(request.url).pathname;
  } catch {
    path = undefined;
  }
  return infoFrom((name) => request.headers.get(name) ?? undefined, request.method, path);
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
  const path = req.url?.split("?")[0];
  const info = infoFrom(get, req.method, path, req.socket?.remoteAddress);
  const segments = req.query?.nextauth;
  if (Array.isArray(segments) && segments.length > 0) {
    info.authAction = segments[0];
    info.providerId = segments[1];
  }
  return info;
}
