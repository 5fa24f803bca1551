import type { AuditEvent } from "../event.js";
import type { AuditLoggerOptions } from "../emit.js";
import { statusOf, type AuditStatus } from "../store/entry.js";

/**
 * What `beforeLog` and `afterLog` receive from `auditLog()`: the event, plus better-auth-audit-logs'
 * names for three of its fields, so a hook written for it reads what it always read:
 * `status` (`"success" | "failed"`, from `outcome`), `createdAt` (`time`) and `metadata` (`{}` when none).
 */
export type AuditLogHookEntry = AuditEvent & {
  status: AuditStatus;
  createdAt: Date;
  metadata: Record<string, unknown>;
};

type MaybePromise<T> = T | Promise<T>;
/** A `beforeLog` result: the entry as received (edited or not), a plain event, or null to drop it. */
export type BeforeLogResult = AuditLogHookEntry | AuditEvent | null | undefined | void;

const hookEntry = (event: AuditEvent): AuditLogHookEntry => ({
  ...event,
  status: statusOf(event.outcome),
  createdAt: event.time,
  metadata: event.metadata ?? {},
});

/**
 * A beforeLog result back as an event. The peer's names win where the hook set them: a changed
 * `status` becomes `outcome`, a changed `createdAt` becomes `time`; an entry built from scratch in the
 * peer's shape (no `outcome`, `time` or `id`) gets them from `status`, `createdAt` and the original.
 * Anything else is left for the logger's own check (an unusable result is reported, never dropped).
 */
function backToEvent(original: AuditLogHookEntry, result: unknown): unknown {
  if (result === null || result === undefined || typeof result !== "object" || Array.isArray(result)) return result;
  const copy: Record<string, unknown> = { ...(result as Record<string, unknown>) };
  if ("status" in copy) {
    if (copy.status !== original.status || copy.outcome === undefined) {
      copy.outcome = copy.status === "failed" ? "failure" : copy.status === "success" ? "success" : copy.status;
    }
    delete copy.status;
  }
  if ("createdAt" in copy) {
    if (copy.createdAt !== original.createdAt || copy.time === undefined) copy.time = copy.createdAt;
    delete copy.createdAt;
  }
  if (copy.id === undefined) copy.id = original.id;
  if (copy.metadata === original.metadata && Object.keys(original.metadata).length === 0) delete copy.metadata;
  return copy;
}

/** The plugin's beforeLog/afterLog, handed the peer-compatible entry; the logger's own checks stay as they are. */
export function hooksWithPeerNames(options: {
  beforeLog?: (entry: AuditLogHookEntry) => MaybePromise<BeforeLogResult>;
  afterLog?: (entry: AuditLogHookEntry) => MaybePromise<void>;
}): Pick<AuditLoggerOptions, "beforeLog" | "afterLog"> {
  const { beforeLog, afterLog } = options;
  return {
    beforeLog: beforeLog
      ? (event) => {
          const entry = hookEntry(event);
          const original = { ...entry };
          const result: unknown = beforeLog(entry);
          if (result !== null && typeof result === "object" && typeof (result as { then?: unknown }).then === "function") {
            return Promise.resolve(result).then((settled) => backToEvent(original, settled) as AuditEvent | null);
          }
          return backToEvent(original, result) as AuditEvent | null;
        }
      : undefined,
    afterLog: afterLog ? (event) => afterLog(hookEntry(event)) : undefined,
  };
}
