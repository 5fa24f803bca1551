import { SeverityNumber } from "@opentelemetry/api";
import type { AuditOutcome, AuditSeverity } from "./event.js";

/** Actions that hand out or take away power over other accounts. */
const CRITICAL_ACTIONS = new Set([
  "admin:ban-user",
  "admin:impersonate-user",
  "admin:set-role",
  "admin:remove-user",
  "admin:set-user-password",
  "organization:update-member-role",
]);
/** Destructive or credential-changing actions. */
const HIGH_PATTERN = /(^|[:/-])(delete|remove|revoke)(-|$)/;
/** Failures of a step that proves who someone is: a failed sign-in, a failed second factor. */
const SIGN_IN_STEP = /^(sign-in|two-factor:verify)/;
const MEDIUM_PATTERN = /^(sign-in|sign-out|sign-up)(:|$)/;

/**
 * The audit severity of an action when none is given: critical for ban, impersonation, role and
 * admin password changes; high for deletions, revocations and every failed sign-in; medium for
 * sign-in/out; low otherwise. unban-user and stop-impersonating are not critical.
 */
export function inferSeverity(action: string, outcome: AuditOutcome): AuditSeverity {
  const known = outcome === "failure" ? inferredFailures : inferredSuccesses;
  let severity = known.get(action);
  if (severity === undefined) {
    severity = infer(action, outcome);
    // actions come from a small fixed set; the bound guards against callers that put ids in them
    if (known.size < 1000) known.set(action, severity);
  }
  return severity;
}

/** inferSeverity's answers per action, one table per outcome (only `failure` changes the answer). */
const inferredSuccesses = new Map<string, AuditSeverity>();
const inferredFailures = new Map<string, AuditSeverity>();

function infer(action: string, outcome: AuditOutcome): AuditSeverity {
  if (CRITICAL_ACTIONS.has(action)) return "critical";
  if (outcome === "failure" && SIGN_IN_STEP.test(action)) return "high";
  if (HIGH_PATTERN.test(action)) return "high";
  if (MEDIUM_PATTERN.test(action)) return "medium";
  return "low";
}

export interface OtelSeverity {
  number: SeverityNumber;
  text: string;
}

export type SeverityMapping = Record<AuditSeverity, OtelSeverity>;

export const DEFAULT_SEVERITY_MAPPING: Readonly<SeverityMapping> = Object.freeze({
  low: { number: SeverityNumber.INFO, text: "INFO" },
  medium: { number: SeverityNumber.INFO2, text: "INFO" },
  high: { number: SeverityNumber.WARN, text: "WARN" },
  critical: { number: SeverityNumber.ERROR, text: "ERROR" },
});

/** Merges a partial override onto the default mapping once, at setup. */
export function severityMapping(overrides?: Partial<SeverityMapping>): SeverityMapping {
  return { ...DEFAULT_SEVERITY_MAPPING, ...overrides };
}
