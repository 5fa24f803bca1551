/**
 * Which better-auth endpoints are audited, and under which action name.
 * Names keep the better-auth-audit-logs convention: the path without its leading slash, `/` → `:`,
 * with route params filled in (`/callback/:id` → `callback:github`).
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

/** `/sign-in/email` → `sign-in:email`; `/callback/:id` with `{ id: "github" }` → `callback:github`. */
export function actionFor(path: string, params?: Record<string, unknown>): string {
  return concretePath(path, params).replace(/^\/+/, "").replace(/\//g, ":");
}

/** The route template with its params filled in. */
export function concretePath(path: string, params?: Record<string, unknown>): string {
  if (!params) return path;
  return path.replace(/:([A-Za-z0-9_]+)/g, (whole, name: string) =>
    typeof params[name] === "string" ? (params[name] as string) : whole,
  );
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
