import { context as otelContext, diag, logs, type Context, type Logger, type LoggerProvider } from "@opentelemetry/api";
import { eventNameFor, toAttributes } from "./attributes.js";
import {
  AUDIT_SEVERITIES,
  newEventId,
  validateEventInput,
  type AuditEvent,
  type AuditEventInput,
  type AuditSeverity,
} from "./event.js";
import { inferSeverity, severityMapping, type SeverityMapping } from "./severity.js";
import { callSafely } from "./report.js";
import { afterTurn } from "./end-of-turn.js";
import { parseOptions } from "./options.js";
import { auditLoggerOptionsSchema } from "./option-schemas.js";
import { SCOPE_NAME, VERSION } from "./version.js";

type MaybePromise<T> = T | Promise<T>;

export interface AuditLoggerOptions {
  /** Where records go; the global provider (`logs.getLoggerProvider()`) when absent, as OTel instrumentations do. */
  loggerProvider?: LoggerProvider;
  /**
   * Used instead of the global provider when none is registered (no OTel SDK in the app) at the
   * first emit; the better-auth plugin ships to OTLP this way when `OTEL_EXPORTER_OTLP_*` is set.
   */
  whenNoGlobalProvider?: () => LoggerProvider | undefined;
  /** `false` turns every call into a no-op. Default true. */
  enabled?: boolean;
  /** Severity per action (`{ "sign-in:email": "high" }`) or a function; inference applies where it gives nothing. */
  severity?: Partial<Record<string, AuditSeverity>> | ((event: Omit<AuditEvent, "severity">) => AuditSeverity | undefined);
  /** Audit severity → OTel SeverityNumber/Text, merged onto the default (low INFO 9 … critical ERROR 17). */
  severityMapping?: Partial<SeverityMapping>;
  /** May edit the event or return null to suppress it. Errors are reported to `diag`, and the event is kept. */
  beforeLog?: (event: AuditEvent) => MaybePromise<AuditEvent | null | undefined | void>;
  /** Runs after the record is handed to the processors. Errors go to `diag`. */
  afterLog?: (event: AuditEvent) => MaybePromise<void>;
}

/**
 * Turns AuditEvents into OTel log records: event name, severity, semantic attributes, the
 * instrumentation scope `otel-auth-audit`, and the active span's trace context.
 */
export class AuditLogger {
  #provider: LoggerProvider | undefined;
  #logger: Logger | undefined;
  /** Further destinations of every record (the better-auth plugin's embedded store). */
  #alsoTo: Logger[] = [];
  #mapping: SeverityMapping;
  #options: AuditLoggerOptions;
  #listeners: Array<(event: AuditEvent) => void> = [];
  enabled: boolean;

  constructor(options: AuditLoggerOptions = {}) {
    parseOptions("AuditLogger", auditLoggerOptionsSchema, options);
    this.#options = options;
    this.#provider = options.loggerProvider;
    this.#mapping = severityMapping(options.severityMapping);
    this.enabled = options.enabled ?? true;
  }

  /** Points the logger at another provider (an instrumentation receives one from NodeSDK). */
  setLoggerProvider(provider: LoggerProvider): void {
    this.#provider = provider;
    this.#logger = undefined;
  }

  /**
   * Calls `listener` with every event after it is emitted (detectors, metrics). Returns a function
   * that removes it. A listener that throws is reported to `diag`.
   */
  onEmitted(listener: (event: AuditEvent) => void): () => void {
    this.#listeners.push(listener);
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== listener);
    };
  }

  /**
   * Sends every record to this provider as well as the main one, each through its own processors;
   * returns a function that stops it. The better-auth plugin attaches its database store this way.
   */
  addLoggerProvider(provider: LoggerProvider): () => void {
    const logger = provider.getLogger(SCOPE_NAME, VERSION);
    this.#alsoTo = [...this.#alsoTo, logger];
    return () => {
      this.#alsoTo = this.#alsoTo.filter((l) => l !== logger);
    };
  }

  /** Resolved lazily so a global provider registered after import is still found. */
  get logger(): Logger {
    this.#logger ??= (this.#provider ?? globalOr(this.#options.whenNoGlobalProvider)).getLogger(SCOPE_NAME, VERSION);
    return this.#logger;
  }

  /**
   * Records an event given by hand, e.g. `audit.record({ action: "admin:user-export", outcome: "success", userId })`.
   * Throws AuditValidationError at once for a bad event; otherwise resolves to what was emitted
   * (null when disabled or suppressed by beforeLog). Without an async beforeLog, the record is
   * emitted before this returns.
   */
  record(input: AuditEventInput): Promise<AuditEvent | null> {
    validateEventInput(input);
    return this.emit(this.complete(input));
  }

  /** Fills id, time and severity (overrides first, then inference). */
  complete(input: AuditEventInput): AuditEvent {
    if (typeof this.#options.severity === "function") {
      // the caller's function is handed the event without its severity, as documented
      const base = { ...input, id: input.id ?? newEventId(), time: input.time ?? new Date() };
      return { ...base, severity: input.severity ?? this.#severityOf(base) };
    }
    // one copy, filled in place: the same keys in the same order as the two copies above
    const event = { ...input, id: input.id ?? newEventId(), time: input.time ?? new Date(), severity: input.severity } as AuditEvent;
    event.severity ??= this.#severityOf(event);
    return event;
  }

  /**
   * Emits a complete event through beforeLog, the LoggerProvider and afterLog. Never throws and
   * never rejects: a beforeLog that throws, rejects, hangs or returns something that is not a
   * complete event is reported to `diag`, and the original event is recorded with
   * `audit.before_log.error` saying why.
   */
  emit(event: AuditEvent, ctx: Context = otelContext.active()): Promise<AuditEvent | null> {
    try {
      if (!this.enabled) return Promise.resolve(null);
      const { beforeLog } = this.#options;
      if (!beforeLog) return afterTurn(this.#emitSafely(event, ctx));
      let edited: unknown;
      try {
        edited = beforeLog(event);
      } catch (error) {
        diag.error("otel-auth-audit: beforeLog threw; the original event is recorded", error);
        return afterTurn(this.#emitSafely(event, ctx, "threw"));
      }
      const pending = thenable(edited);
      if (!pending) return afterTurn(this.#afterBefore(event, edited, ctx));
      return new Promise<AuditEvent | null>((resolve) => {
        let settled = false;
        const settle = (emit: () => AuditEvent | null) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve(afterTurn(emit()));
        };
        // a beforeLog that never settles must not hold the request (or the record) forever
        const timer = setTimeout(() => {
          diag.error(`otel-auth-audit: beforeLog did not settle within ${BEFORE_LOG_TIMEOUT_MS} ms; the original event is recorded`);
          settle(() => this.#emitSafely(event, ctx, "timeout"));
        }, BEFORE_LOG_TIMEOUT_MS);
        timer.unref?.();
        try {
          pending.then(
            (result) => settle(() => this.#afterBefore(event, result, ctx)),
            (error: unknown) => {
              diag.error("otel-auth-audit: beforeLog rejected; the original event is recorded", error);
              settle(() => this.#emitSafely(event, ctx, "rejected"));
            },
          );
        } catch (error) {
          diag.error("otel-auth-audit: beforeLog returned a broken promise; the original event is recorded", error);
          settle(() => this.#emitSafely(event, ctx, "rejected"));
        }
      });
    } catch (error) {
      if (isRefusal(error)) throw error;
      diag.error("otel-auth-audit: emit failed", error);
      return Promise.resolve(null);
    }
  }

  #afterBefore(original: AuditEvent, edited: unknown, ctx: Context): AuditEvent | null {
    if (edited === null) return null;
    if (edited === undefined) return this.#emitSafely(original, ctx);
    const checked = checkedEvent(edited);
    if (typeof checked === "string") {
      diag.error(`otel-auth-audit: beforeLog returned an unusable event (${checked}); the original event is recorded`);
      return this.#emitSafely(original, ctx, "invalid_result");
    }
    return this.#emitSafely(checked, ctx);
  }

  /** Emits, falling back to a bare record of the event's identity when its content cannot be turned into one. */
  #emitSafely(event: AuditEvent, ctx: Context, beforeLogError?: string): AuditEvent {
    try {
      return this.#emitNow(event, ctx, beforeLogError);
    } catch (error) {
      if (isRefusal(error)) throw error;
      diag.error("otel-auth-audit: an event could not be turned into a record; a minimal record is emitted", error);
      const minimal: AuditEvent = {
        action: safeString(() => event.action) ?? "unknown",
        outcome: safeString(() => event.outcome) === "failure" ? "failure" : "success",
        severity: "high",
        id: safeString(() => event.id) ?? newEventId(),
        time: new Date(),
      };
      try {
        return this.#emitNow(minimal, ctx, beforeLogError ?? "unrecordable_event");
      } catch (again) {
        diag.error("otel-auth-audit: the minimal record could not be emitted either", again);
        return minimal;
      }
    }
  }

  #emitNow(event: AuditEvent, ctx: Context, beforeLogError?: string): AuditEvent {
    const otel = this.#mapping[event.severity] ?? this.#mapping.low;
    const attributes = toAttributes(event);
    if (beforeLogError) attributes[BEFORE_LOG_ERROR_ATTR] = beforeLogError;
    const record = {
      eventName: eventNameFor(event.action, event.origin),
      timestamp: event.time,
      severityNumber: otel.number,
      severityText: otel.text,
      body: bodyFor(event),
      attributes,
      context: ctx,
    };
    this.logger.emit(record);
    // the SDK copies the record per logger, so one pipeline's redaction never touches another's
    for (const logger of this.#alsoTo) {
      try {
        logger.emit(record);
      } catch (error) {
        diag.error("otel-auth-audit: a secondary LoggerProvider threw on emit", error);
      }
    }
    this.#runAfterLog(event);
    for (const listener of this.#listeners) callSafely(listener, event, "an emitted-event listener");
    return event;
  }

  #runAfterLog(event: AuditEvent): void {
    callSafely(this.#options.afterLog, event, "afterLog");
  }

  #severityOf(event: Omit<AuditEvent, "severity">): AuditSeverity {
    const { severity } = this.#options;
    const chosen = typeof severity === "function" ? severity(event) : severity?.[event.action];
    return chosen ?? inferSeverity(event.action, event.outcome);
  }
}

/** Set on a record whose beforeLog failed: `threw`, `rejected`, `timeout`, `invalid_result`. */
export const BEFORE_LOG_ERROR_ATTR = "audit.before_log.error";
/** How long an async beforeLog may take before the original event is recorded without it. */
const BEFORE_LOG_TIMEOUT_MS = 5_000;

/**
 * A pipeline that refuses records on purpose (a full spool with `overflow: "reject"`) wants the
 * audited call to fail: that error is the caller's to see, not a fault to paper over.
 */
function isRefusal(error: unknown): boolean {
  return error instanceof Error && (error as { code?: unknown }).code === "AUDIT_SPOOL_FULL";
}

/** The value's `then`, when it is a promise-like; reading it may itself throw (a hostile getter). */
function thenable(value: unknown): PromiseLike<unknown> | undefined {
  if (value === null || (typeof value !== "object" && typeof value !== "function")) return undefined;
  try {
    const then = (value as { then?: unknown }).then;
    return typeof then === "function" ? (value as PromiseLike<unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function safeString(read: () => unknown): string | undefined {
  try {
    const v = read();
    return typeof v === "string" && v !== "" ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A beforeLog result as a complete AuditEvent, read once into a fresh object (a getter cannot change
 * it afterwards), or the reason it is not one.
 */
function checkedEvent(value: unknown): AuditEvent | string {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return "not an object";
  let copy: Record<string, unknown>;
  try {
    copy = { ...(value as Record<string, unknown>) };
    validateEventInput(copy);
  } catch (error) {
    return error instanceof Error ? error.message : "unreadable";
  }
  if (!AUDIT_SEVERITIES.includes(copy.severity as AuditSeverity)) return "severity missing";
  const metadata = copy.metadata === undefined ? undefined : metadataProblem(copy.metadata);
  if (metadata) return metadata;
  if (!(copy.time instanceof Date)) return "time missing";
  if (typeof copy.id !== "string") return "id missing";
  return copy as unknown as AuditEvent;
}

/** Metadata a record cannot carry: cyclic, or nested past any sensible depth. Iterative. */
function metadataProblem(metadata: unknown): string | undefined {
  const seen = new Set<object>();
  const stack: Array<[unknown, number]> = [[metadata, 0]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (value === null || typeof value !== "object") continue;
    if (seen.has(value)) return "cyclic metadata";
    if (depth > MAX_EDITED_METADATA_DEPTH) return "metadata nested too deep";
    seen.add(value);
    for (const child of Object.values(value)) stack.push([child, depth + 1]);
  }
  return undefined;
}
const MAX_EDITED_METADATA_DEPTH = 32;

/** The global provider; the fallback when no SDK has registered one (the API's proxy delegates to nothing). */
function globalOr(fallback: (() => LoggerProvider | undefined) | undefined): LoggerProvider {
  const global = logs.getLoggerProvider();
  if (!fallback) return global;
  // Until an SDK registers, the API hands out its proxy (no delegate); after, the registered provider itself.
  const proxy = global as { _setDelegate?: unknown; _delegate?: unknown };
  const registered = typeof proxy._setDelegate !== "function" || proxy._delegate !== undefined;
  return registered ? global : (fallback() ?? global);
}

/** A one-line human summary; the structured data lives in the attributes. */
function bodyFor(event: AuditEvent): string {
  const { action, outcome, error } = event;
  if (typeof action !== "string" || (outcome !== "success" && outcome !== "failure") || (error && typeof error !== "string")) {
    return error ? `${action} ${outcome}: ${error}` : `${action} ${outcome}`; // an unchecked event given to emit()
  }
  // one string per action, outcome and error code, made once: no new text per record, and the
  // redaction that reads it finds it among the values it already knows clean
  let known = bodies.get(action);
  if (known === undefined) {
    known = { success: { plain: `${action} success`, errors: new Map() }, failure: { plain: `${action} failure`, errors: new Map() } };
    if (remembered + 2 <= MAX_BODIES) {
      bodies.set(action, known);
      remembered += 2;
    }
  }
  const texts = known[outcome];
  if (!error) return texts.plain;
  let body = texts.errors.get(error);
  if (body === undefined) {
    body = `${texts.plain}: ${error}`;
    // error texts are the caller's (an exception's message may carry ids): only short ones, and
    // only while the whole table is small, so no stream of distinct errors can grow it
    if (error.length <= MAX_REMEMBERED_ERROR && remembered < MAX_BODIES) {
      texts.errors.set(error, body);
      remembered++;
    }
  }
  return body;
}
/** Bodies per action and error code: at most MAX_BODIES texts in all, whatever callers put in them. */
const bodies = new Map<string, Record<"success" | "failure", { plain: string; errors: Map<string, string> }>>();
const MAX_BODIES = 4096;
const MAX_REMEMBERED_ERROR = 128;
let remembered = 0;

/** How many body texts are remembered (tests hold the bound). */
export const rememberedBodies = (): number => remembered;

export function createAuditLogger(options: AuditLoggerOptions = {}): AuditLogger {
  parseOptions("createAuditLogger", auditLoggerOptionsSchema, options);
  return new AuditLogger(options);
}
