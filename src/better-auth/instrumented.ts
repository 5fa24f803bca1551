import type { AuthAuditInstrumentation } from "../instrumentation.js";
import { auditLog } from "./index.js";
import type { AuditLogOptions } from "./types.js";

/**
 * The better-auth plugin emitting through an AuthAuditInstrumentation, with the instrumentation's
 * `betterAuth` defaults: `betterAuth({ plugins: [auditLogFor(authAudit)] })`. It lives here, not on
 * the instrumentation, so the package root never imports better-auth (an optional peer).
 */
export function auditLogFor(
  instrumentation: AuthAuditInstrumentation,
  options: Omit<AuditLogOptions, "logger" | "loggerProvider" | "beforeLog" | "afterLog" | "severity" | "severityMapping"> = {},
): ReturnType<typeof auditLog> {
  const defaults = instrumentation.getConfig().betterAuth ?? {};
  return auditLog({ ...defaults, ...options, capture: { ...defaults.capture, ...options.capture }, logger: instrumentation.audit });
}
