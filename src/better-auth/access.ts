import type { BetterAuthOptions } from "better-auth";

/** What the audit endpoints know of the caller (better-auth's session, with the admin plugin's `role`). */
export interface AuditSession {
  user: { id: string; role?: string | null; [key: string]: unknown };
  session: { id: string; userId: string; impersonatedBy?: string | null; [key: string]: unknown };
}

interface AdminPluginOptions {
  adminRoles?: string | string[];
  adminUserIds?: string[];
  defaultRole?: string;
}

/**
 * Whether the session belongs to an admin, as the admin plugin decides it: one of the user's
 * comma-separated roles is in `adminRoles` (default ["admin"]), or the user is in `adminUserIds`.
 * Without the admin plugin, the role "admin" still counts.
 */
export function isAdminSession(session: AuditSession, authOptions: Pick<BetterAuthOptions, "plugins">): boolean {
  const admin = authOptions.plugins?.find((p) => p.id === "admin") as { options?: AdminPluginOptions } | undefined;
  const opts = admin?.options ?? {};
  if (opts.adminUserIds?.includes(session.user.id)) return true;
  const adminRoles = (Array.isArray(opts.adminRoles) ? opts.adminRoles : (opts.adminRoles ?? "admin").split(",")).map((r) => r.trim());
  const roles = (session.user.role || opts.defaultRole || "user").split(",").map((r) => r.trim());
  return roles.some((r) => adminRoles.includes(r));
}
