/**
 * Which better-auth endpoints are audited, and under which action name.
 * Names keep the better-auth-audit-logs convention: the path without its leading slash, `/` → `:`.
 * Route params are values (a reset token in `/reset-password/:token`): only the template is
 * recorded, except a known OAuth provider id (`/callback/:id` → `callback:github`).
 */

/** Reads are not audited: they change nothing and would drown the trail (get-session runs on every page). */
const READ_PATHS = [
  /^\/get-session$/,
  /^\/list-sessions$/,
  /^\/list-accounts$/,
  /^\/account-info/,
  /^\/audit-log(\/|$)/,
  /^\/(ok|error|jwks|token)$/,
  /^\/get-access-token$/,
  /(^|\/)(get|list|has|check)-[^/]*$/,
  /^\/organization\/(list|get-full-organization|get-active-member|check-slug|has-permission)/,
  /^\/passkey\/generate-[^/]*-options$/,
  /^\/is-username-available$/,
  /^\/one-time-token\/generate$/,
  /^\/api-key\/(get|list)$/,
];

export function isReadPath(path: string): boolean {
  return READ_PATHS.some((re) => re.test(path));
}

/**
 * Route parameters that may be recorded: the OAuth provider of a callback, and only when it is a
 * provider the app knows (anything else in that place is what a caller typed). Every other
 * parameter (`/reset-password/:token`) is a value an attacker may not see: it stays a template.
 */
const SAFE_PARAMS = new Set(["id", "providerId"]);
const PROVIDER_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** The params that may be filled into an action or a path; `isKnownProvider` decides for provider ids. */
export function safeParams(params: Record<string, unknown> | undefined, isKnownProvider: (id: string) => boolean): Record<string, string> {
  const out: Record<string, string> = {};
  if (!params) return out;
  for (const name of SAFE_PARAMS) {
    const value = Object.hasOwn(params, name) ? params[name] : undefined;
    if (typeof value === "string" && PROVIDER_ID.test(value) && isKnownProvider(value)) out[name] = value;
  }
  return out;
}

/**
 * The action of an endpoint: the route template without its leading slash, `/` → `:`, with safe
 * params filled in and every other param segment left out: `/sign-in/email` → `sign-in:email`,
 * `/callback/:id` with a known provider → `callback:github`, `/reset-password/:token` → `reset-password`.
 */
export function actionFor(template: string, safe: Record<string, string> = {}): string {
  const segments: string[] = [];
  for (const segment of template.split("/")) {
    if (segment === "") continue;
    if (segment.startsWith(":")) {
      const value = Object.hasOwn(safe, segment.slice(1)) ? safe[segment.slice(1)] : undefined;
      if (value !== undefined) segments.push(value);
      continue;
    }
    segments.push(segment);
  }
  return segments.join(":");
}

/** `url.path` of a record: the template with only safe params filled in (`/reset-password/:token`, `/callback/github`). */
export function recordedPath(template: string, safe: Record<string, string> = {}): string {
  return template.replace(/:([A-Za-z0-9_]+)/g, (whole, name: string) => (Object.hasOwn(safe, name) ? safe[name]! : whole));
}

/**
 * The route template a concrete request path belongs to (`/reset-password/abc` →
 * `/reset-password/:token`), among `templates`; undefined when none matches.
 */
export function templateOf(path: string, templates: Iterable<string>): string | undefined {
  const parts = path.split("/");
  let withParams: string | undefined;
  for (const template of templates) {
    const t = template.split("/");
    if (t.length !== parts.length) continue;
    let ok = true;
    let params = false;
    for (let i = 0; i < t.length && ok; i++) {
      if (t[i]!.startsWith(":")) {
        params = true;
        ok = parts[i] !== "";
      } else ok = t[i] === parts[i];
    }
    if (!ok) continue;
    if (!params) return template; // an exact route wins over a parameterised one
    withParams ??= template;
  }
  return withParams;
}

/** Endpoints that end the session they run under: the subject is read from the deleted session. */
export const SESSION_ENDING_PATHS = new Set(["/sign-out", "/delete-user", "/revoke-session", "/revoke-sessions", "/revoke-other-sessions"]);

/** A path pattern of the `paths` option: exact, or a prefix ending in `*`. */
export function pathMatches(pattern: string, templatePath: string, path: string): boolean {
  if (pattern.endsWith("*")) {
    const prefix = pattern.slice(0, -1);
    return templatePath.startsWith(prefix) || path.startsWith(prefix);
  }
  return pattern === templatePath || pattern === path;
}
