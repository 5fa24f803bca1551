import { context as otelContext, diag, logs, type Context, type Logger, type LoggerProvider } from "@opentelemetry/api";
import { eventNameFor, toAttributes } from "./attributes.js";
import {
  newEventId,
  validateEventInput,
  type AuditEvent,
  type AuditEventInput,
  type AuditSeverity,
} from "./event.js";
import { inferSeverity, severityMapping, type SeverityMapping } from "./severity.js";
import { callSafely } from "./report.js";
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
    const base = { ...input, id: input.id ?? newEventId(), time: input.time ?? new Date() };
    return { ...base, severity: input.severity ?? this.#severityOf(base) };
  }

  /** Emits a complete event through beforeLog, the LoggerProvider and afterLog. */
  emit(event: AuditEvent, ctx: Context = otelContext.active()): Promise<AuditEvent | null> {
    if (!this.enabled) return Promise.resolve(null);
    const { beforeLog } = this.#options;
    if (!beforeLog) return Promise.resolve(this.#emitNow(event, ctx));
    let edited: ReturnType<typeof beforeLog>;
    try {
      edited = beforeLog(event);
    } catch (error) {
      diag.error("otel-auth-audit: beforeLog threw; the event is recorded unchanged", error);
      return Promise.resolve(this.#emitNow(event, ctx));
    }
    if (!(edited instanceof Promise)) return Promise.resolve(this.#afterBefore(event, edited, ctx));
    return edited.then(
      (result) => this.#afterBefore(event, result, ctx),
      (error: unknown) => {
        diag.error("otel-auth-audit: beforeLog rejected; the event is recorded unchanged", error);
        return this.#emitNow(event, ctx);
      },
    );
  }

  #afterBefore(original: AuditEvent, edited: AuditEvent | null | undefined | void, ctx: Context): AuditEvent | null {
    if (edited === null) return null;
    return this.#emitNow(edited ?? original, ctx);
  }

  #emitNow(event: AuditEvent, ctx: Context): AuditEvent {
    const otel = this.#mapping[event.severity] ?? this.#mapping.low;
    const record = {
      eventName: eventNameFor(event.action),
      timestamp: event.time,
      severityNumber: otel.number,
      severityText: otel.text,
      body: bodyFor(event),
      attributes: toAttributes(event),
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
  return event.error ? `${event.action} ${event.outcome}: ${event.error}` : `${event.action} ${event.outcome}`;
}

export function createAuditLogger(options: AuditLoggerOptions = {}): AuditLogger {
  return new AuditLogger(options);
}
