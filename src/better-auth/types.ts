import type { LoggerProvider } from "@opentelemetry/api";
import type { LogRecordProcessor } from "@opentelemetry/sdk-logs";
import type { AuditLogger, AuditLoggerOptions } from "../emit.js";
import type { BruteForceOptions } from "../detect/brute-force.js";
import type { AuditSeverity } from "../event.js";
import type { RetentionOptions } from "../store/retention.js";
import type { AuditLogEntry } from "../store/entry.js";
import type { AuditStorage } from "../store/storage.js";
import type { StoreBatchOptions } from "../store/write-batcher.js";
import type { AuditSession } from "./access.js";
import type { AuditLogSchemaOptions } from "./schema.js";
import type { AuditLogHookEntry, BeforeLogResult } from "./hook-entry.js";

type MaybePromise<T> = T | Promise<T>;

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

/**
 * `"/sign-in/email"`, a prefix `"/two-factor/*"`, or either with its own config. A path starts with
 * `/` and may end in `*` only: `"sign-in/*"` is refused when the plugin is made.
 */
export type PathOption = string | { path: string; config?: PathConfig };

/** better-auth-audit-logs' `piiRedaction`, mapped onto the RedactionProcessor. */
export interface PiiRedactionOptions {
  enabled?: boolean;
  /** `mask` (***), `hash` (HMAC-SHA256) or `remove` (drop the key). */
  strategy?: "mask" | "hash" | "remove";
  /** Keys to redact, added to the defaults (password, token, secret, apiKey, otp, …). */
  fields?: string[];
}

export interface RateLimitRule {
  /** Seconds. */
  window: number;
  max: number;
}

export interface AuditLogOptions extends Pick<AuditLoggerOptions, "severityMapping" | "severity"> {
  /**
   * Sees each event before it is recorded; returns it (edited or not), or null to drop it. The entry
   * also carries better-auth-audit-logs' `status`, `createdAt` and `metadata` (an object); a changed
   * `status` or `createdAt` is recorded as `outcome` / `time`.
   */
  beforeLog?: (entry: AuditLogHookEntry) => MaybePromise<BeforeLogResult>;
  /** Runs once the record is handed to the exporters, with the same entry as beforeLog. */
  afterLog?: (entry: AuditLogHookEntry) => MaybePromise<void>;
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

  /**
   * Keep records in the app's own database (table `auditLog`) so `/audit-log/list` works with no
   * collector at all. Default true, unless `storage` is given.
   */
  store?: boolean;
  /** A custom store instead of (or with `store: true`, besides) the database: better-auth-audit-logs' shape. */
  storage?: AuditStorage;
  /**
   * Processors run on the store's copy of each record before it is written. Default: a
   * RedactionProcessor (with `piiRedaction` applied). The OTLP pipeline (`loggerProvider`) has its own.
   */
  storeProcessors?: LogRecordProcessor[];
  /** Delete stored records older than `days`; on an unref'd timer and after writes, at most once per `intervalMs` (default 24 h). */
  retention?: RetentionOptions;
  /**
   * How the database store batches its writes off the request path: one transaction per batch,
   * written `flushIntervalMs` after its first record (default 50) or at `maxBatch` records
   * (default 100); reads and `flush()` write the queue at once. A custom `storage` is written per record.
   */
  storeBatch?: StoreBatchOptions;
  /**
   * Called with the error and the entry when a record could not be stored (database or `storage`)
   * after 3 attempts with backoff. The failure also goes to `diag`. Errors it throws go to `diag`.
   */
  onWriteError?: (error: unknown, entry: AuditLogEntry) => void;
  /**
   * Limits of `POST /audit-log/insert` metadata: serialized bytes and nesting depth; `false` lifts
   * them. @default { maxBytes: 8192, maxDepth: 5 } (`insert.maxMetadataBytes`, when given, wins)
   */
  metadataLimits?: false | { maxBytes?: number; maxDepth?: number };
  /**
   * better-auth-audit-logs' paths logged from a before-hook. Here every path is recorded after it
   * runs, with its real outcome; for these paths the subject (user, session) is also taken
   * before the endpoint runs, so a path that ends the session still names who it was.
   * @default ["/sign-out", "/delete-user", "/revoke-session", "/revoke-sessions", "/revoke-other-sessions"]
   */
  beforePaths?: string[];
  /** Refused with a message: the stored rows are not chained; use an IntegrityProcessor on the exported records. */
  tamperDetection?: false;
  /** Table and column names: `{ auditLog: { modelName: "audit_logs", fields: { userId: "user_id" } } }`. */
  schema?: AuditLogSchemaOptions;

  /** Return `userAgent` from the read endpoints. Default false: it is stored, not shown. */
  exposeUserAgent?: boolean;
  /** Who may read other users' records. Default: an admin as the admin plugin defines it (`adminRoles`, `adminUserIds`). */
  canReadAll?: (session: AuditSession) => MaybePromise<boolean>;
  /** Who may insert admin:* actions or high/critical severities. Default: the same admin rule. */
  canInsertPrivileged?: (session: AuditSession) => MaybePromise<boolean>;
  /** `POST /audit-log/insert`: off with `false`; `maxMetadataBytes` caps the serialized metadata (default 8 KiB). */
  insert?: false | { maxMetadataBytes?: number };
  /** Rate limits of the endpoints (when better-auth's rate limiter is on). Default 60 per 60 s each. */
  rateLimit?: { read?: RateLimitRule; insert?: RateLimitRule };
  /**
   * better-auth-audit-logs' option, mapped onto the RedactionProcessor of the plugin's own pipelines
   * (the store, and the OTLP one it builds when no SDK is registered). With your own `loggerProvider`,
   * give its RedactionProcessor `piiRedactionToOptions(…)`.
   */
  piiRedaction?: PiiRedactionOptions;
}
