import type { LoggerProvider } from "@opentelemetry/api";
import type { AuditLogger, AuditLoggerOptions } from "../emit.js";
import type { BruteForceOptions } from "../detect/brute-force.js";
import type { AuditSeverity } from "../event.js";

export interface CaptureOptions {
  /** `client.address`, honouring better-auth's `advanced.ipAddress` settings. Default true. */
  ipAddress: boolean;
  /** `user_agent.original`. Default true. */
  userAgent: boolean;
  /** The request body under `audit.metadata.requestBody.*`, credentials removed. Default false. */
  requestBody: boolean;
}

export interface PathConfig {
  severity?: AuditSeverity;
  capture?: Partial<CaptureOptions>;
}

/** `"/sign-in/email"`, a prefix `"/two-factor/*"`, or either with its own config. */
export type PathOption = string | { path: string; config?: PathConfig };

export interface AuditLogOptions
  extends Pick<AuditLoggerOptions, "beforeLog" | "afterLog" | "severityMapping" | "severity"> {
  /** `false` keeps the plugin installed but records nothing. Default true. */
  enabled?: boolean;
  /** Where records go; the global LoggerProvider when absent, as OTel instrumentations do. */
  loggerProvider?: LoggerProvider;
  /** A ready AuditLogger (an instrumentation hands out its own); wins over `loggerProvider`. */
  logger?: AuditLogger;
  /** Audit only these paths (empty or absent: every auth endpoint but reads). */
  paths?: PathOption[];
  capture?: Partial<CaptureOptions>;
  /** Brute-force and credential-stuffing signals (`auth.brute_force.suspected`): true for the defaults. */
  bruteForce?: boolean | BruteForceOptions;
  /** Emit after the response is on its way (better-auth's background task runner), never delaying it. */
  nonBlocking?: boolean;
}
