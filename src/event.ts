import { AuditValidationError } from "./errors.js";
import { uuidv7 } from "./uuid.js";

export type AuditOutcome = "success" | "failure";
export type AuditSeverity = "low" | "medium" | "high" | "critical";
/** Who vouches for an event: the server observed it, or a client claimed it (`POST /audit-log/insert`). */
export type AuditOrigin = "server" | "client";

export const AUDIT_OUTCOMES: readonly AuditOutcome[] = ["success", "failure"];
export const AUDIT_SEVERITIES: readonly AuditSeverity[] = ["low", "medium", "high", "critical"];

/** One authentication event, independent of the auth library that produced it. */
export interface AuditEvent {
  /** `<endpoint>:<method>` as in better-auth-audit-logs, e.g. `sign-in:email`, `admin:ban-user`. */
  action: string;
  outcome: AuditOutcome;
  severity: AuditSeverity;
  /** The subject; null for failed sign-ins. */
  userId?: string | null;
  /** A keyed hash of the identifier a sign-in attempt named (email, username): correlates failures without the address. */
  userHash?: string;
  sessionId?: string;
  /** Who did it, when not the subject (an admin, an impersonator). */
  actorId?: string;
  ipAddress?: string;
  userAgent?: string;
  method?: string;
  /** The request's path; for a route with parameters, the template with only safe ones filled in. */
  path?: string;
  /** The route template (`/reset-password/:token`), as `http.route` in the HTTP semantic conventions. */
  route?: string;
  statusCode?: number;
  /** The auth library's error code on failure, e.g. `INVALID_EMAIL_OR_PASSWORD`. */
  error?: string;
  metadata?: Record<string, unknown>;
  /** `client` for events a signed-in user reported about themselves; absent means `server`. */
  origin?: AuditOrigin;
  time: Date;
  /** Unique and sortable (UUIDv7): lets stores de-duplicate after at-least-once delivery. */
  id: string;
}

/** What a caller gives: `severity`, `time` and `id` are filled in when absent. */
export type AuditEventInput = Omit<AuditEvent, "severity" | "time" | "id"> &
  Partial<Pick<AuditEvent, "severity" | "time" | "id">>;

export const newEventId = (): string => uuidv7();

function optionalString(value: unknown, key: string): void {
  if (value !== undefined && typeof value !== "string") throw new AuditValidationError(`audit event \`${key}\` must be a string`, key);
}

/** Checks a caller-supplied event; throws AuditValidationError naming the first bad field. */
export function validateEventInput(input: unknown): asserts input is AuditEventInput {
  if (input === null || typeof input !== "object") {
    throw new AuditValidationError("audit event must be an object", "event");
  }
  const e = input as Record<string, unknown>;
  if (typeof e.action !== "string" || e.action.trim() === "") {
    throw new AuditValidationError("audit event needs a non-empty string `action`", "action");
  }
  if (e.action.length > 200) {
    throw new AuditValidationError("audit event `action` is longer than 200 characters", "action");
  }
  const outcome = e.outcome;
  if (outcome !== "success" && outcome !== "failure") {
    throw new AuditValidationError(
      `audit event \`outcome\` must be one of ${AUDIT_OUTCOMES.join(", ")}; got ${JSON.stringify(outcome)}`,
      "outcome",
    );
  }
  if (e.severity !== undefined && !AUDIT_SEVERITIES.includes(e.severity as AuditSeverity)) {
    throw new AuditValidationError(
      `audit event \`severity\` must be one of ${AUDIT_SEVERITIES.join(", ")}; got ${JSON.stringify(e.severity)}`,
      "severity",
    );
  }
  if (e.userId !== undefined && e.userId !== null && typeof e.userId !== "string") {
    throw new AuditValidationError("audit event `userId` must be a string or null", "userId");
  }
  // one named read per field (a loop over names reads each through a generic keyed lookup)
  optionalString(e.userHash, "userHash");
  optionalString(e.sessionId, "sessionId");
  optionalString(e.actorId, "actorId");
  optionalString(e.ipAddress, "ipAddress");
  optionalString(e.userAgent, "userAgent");
  optionalString(e.method, "method");
  optionalString(e.path, "path");
  optionalString(e.route, "route");
  optionalString(e.error, "error");
  if (e.statusCode !== undefined && !Number.isInteger(e.statusCode)) {
    throw new AuditValidationError("audit event `statusCode` must be an integer", "statusCode");
  }
  if (e.metadata !== undefined && (e.metadata === null || typeof e.metadata !== "object" || Array.isArray(e.metadata))) {
    throw new AuditValidationError("audit event `metadata` must be a plain object", "metadata");
  }
  if (e.origin !== undefined && e.origin !== "server" && e.origin !== "client") {
    throw new AuditValidationError("audit event `origin` must be server or client", "origin");
  }
  if (e.time !== undefined && !(e.time instanceof Date && !Number.isNaN(e.time.getTime()))) {
    throw new AuditValidationError("audit event `time` must be a valid Date", "time");
  }
  if (e.id !== undefined && (typeof e.id !== "string" || e.id === "")) {
    throw new AuditValidationError("audit event `id` must be a non-empty string", "id");
  }
}
