import type { LoggerProvider } from "@opentelemetry/api";
import type { AuditLogger, AuditLoggerOptions } from "../emit.js";
import type { TrustedProxies } from "./client-address.js";

export interface CaptureOptions {
  /** `client.address`, chosen by `trustedProxies`. Default true. */
  ipAddress: boolean;
  /** `user_agent.original`. Default true. */
  userAgent: boolean;
}

export interface UserHashOptions {
  /**
   * The HMAC key of `user.hash`.
   * @default the Auth.js `secret` (its first one), else `AUTH_SECRET` / `NEXTAUTH_SECRET`
   */
  key?: string;
  /**
   * Credentials fields that name the account tried; the first non-empty one is hashed.
   * @default ["email", "username", "identifier", "login", "phone", "phoneNumber"]
   */
  fields?: string[];
}

/** What Next.js's `headers()` returns (sync in Next 14, a promise in 15+). */
export type HeadersSource = () => { get(name: string): string | null } | Promise<{ get(name: string): string | null }>;

export interface WithAuditOptions
  extends Pick<AuditLoggerOptions, "enabled" | "severity" | "severityMapping" | "beforeLog" | "afterLog"> {
  /** Where records go; the global LoggerProvider when absent, as OTel instrumentations do. */
  loggerProvider?: LoggerProvider;
  /** A ready AuditLogger (an instrumentation hands out its own); wins over `loggerProvider`. */
  logger?: AuditLogger;
  capture?: Partial<CaptureOptions>;
  /** Auth.js events recorded besides sign-in/out and user/account changes. `session` runs on every session read: off by default. */
  events?: { session?: boolean };
  /**
   * Which `X-Forwarded-For` hops to believe (Express `trust proxy` semantics): a hop count — the
   * number of proxies in front of the app — or a list of addresses / CIDR ranges (`"loopback"`,
   * `"private"` allowed).
   * @default 0 — trust none: a Node request's socket address; no address for a web `Request`
   */
  trustedProxies?: TrustedProxies;
  /** `user.hash` on failed sign-ins (the brute-force detector's account key); `false` turns it off. */
  userHash?: UserHashOptions | false;
  /**
   * Request headers where no wrapped route handler runs (a server action's `signIn()` / `signOut()`):
   * pass Next.js's `headers` from `next/headers`.
   */
  headers?: HeadersSource;
}

/** The parts of a user, account, token and session the adapter reads; both Auth.js lines fit. */
export interface AuthUserLike {
  id?: string | null;
  email?: string | null;
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
  secret?: unknown;
  // Method syntax keeps the parameters bivariant, so each line's own event types fit.
  events?: {
    signIn?(message: never): unknown;
    signOut?(message: never): unknown;
    createUser?(message: never): unknown;
    updateUser?(message: never): unknown;
    linkAccount?(message: never): unknown;
    session?(message: never): unknown;
  };
  callbacks?: {
    signIn?(params: never): unknown;
  };
  logger?: {
    error?(...args: never[]): void;
    warn?(...args: never[]): void;
    debug?(...args: never[]): void;
  };
}
