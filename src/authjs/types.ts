import type { LoggerProvider } from "@opentelemetry/api";
import type { AuditLogger, AuditLoggerOptions } from "../emit.js";


export interface CaptureOptions {
  /** `client.address`: the first hop of `x-forwarded-for`, else `x-real-ip`. Default true. */
  ipAddress: boolean;
  /** `user_agent.original`. Default true. */
  userAgent: boolean;
}

export interface WithAuditOptions
  extends Pick<AuditLoggerOptions, "enabled" | "severity" | "severityMapping" | "beforeLog" | "afterLog"> {
  /** Where records go; the global LoggerProvider when absent, as OTel instrumentations do. */
  loggerProvider?: LoggerProvider;
  /** A ready AuditLogger (an instrumentation hands out its own); wins over `loggerProvider`. */
  logger?: AuditLogger;
  capture?: Partial<CaptureOptions>;
  /** Auth.js events recorded besides sign-in/out and user/account changes. `session` runs on every session read: off by default. */
  events?: { session?: boolean };
}

/** The parts of a user, account, token and session the adapter reads; both Auth.js lines fit. */
export interface AuthUserLike {
  id?: string | null;
}
export interface AuthAccountLike {
  provider?: string;
  type?: string;
  userId?: string;
}
export interface SignInMessage {
  user: AuthUserLike;
  account?: AuthAccountLike | null;
  profile?: unknown;
  isNewUser?: boolean;
}
export interface SignOutMessage {
  token?: { sub?: string | null } | null;
  session?: { userId?: string } | null;
}

/**
 * The Auth.js config members `withAudit` touches, typed loosely so one shape fits `@auth/core`
 * (`AuthConfig`), next-auth 5 (`NextAuthConfig`) and next-auth 4 (`AuthOptions`).
 */
export interface AuthConfigLike {
  providers?: unknown;
  // Method syntax keeps the parameters bivariant, so each line's own event types fit.
  events?: {
    signIn?(message: never): unknown;
    signOut?(message: never): unknown;
    createUser?(message: never): unknown;
    updateUser?(message: never): unknown;
    linkAccount?(message: never): unknown;
    session?(message: never): unknown;
  };
  logger?: {
    error?(...args: never[]): void;
    warn?(...args: never[]): void;
    debug?(...args: never[]): void;
  };
}
