import { diag } from "@opentelemetry/api";
import { AuditLogger } from "../emit.js";
import type { AuditEventInput } from "../event.js";
import { providerTypes } from "./actions.js";
import { currentScope } from "./request-context.js";
import type { CaptureOptions, WithAuditOptions } from "./types.js";

const DEFAULT_CAPTURE: CaptureOptions = { ipAddress: true, userAgent: true };

type EventFields = Pick<AuditEventInput, "action" | "outcome" | "userId" | "error" | "metadata" | "statusCode">;

/** Turns what Auth.js tells us into audit records, adding the current request's context. */
export class AuthjsRecorder {
  readonly logger: AuditLogger;
  readonly sessionEvents: boolean;
  #capture: CaptureOptions;
  #enabled: boolean;
  #providers: unknown;
  #types: Map<string, string> | undefined;

  constructor(options: WithAuditOptions, providers: unknown) {
    this.logger =
      options.logger ??
      new AuditLogger({
        loggerProvider: options.loggerProvider,
        enabled: options.enabled,
        severity: options.severity,
        severityMapping: options.severityMapping,
        beforeLog: options.beforeLog,
        afterLog: options.afterLog,
      });
    this.#capture = { ...DEFAULT_CAPTURE, ...options.capture };
    this.#enabled = options.enabled ?? true;
    this.sessionEvents = options.events?.session ?? false;
    this.#providers = providers;
  }

  get enabled(): boolean {
    return this.#enabled && this.logger.enabled;
  }

  /** The provider type (`credentials`, `oauth`, `oidc` …) of a provider id, from the config. */
  providerType(id: string | undefined): string | undefined {
    if (!id) return undefined;
    this.#types ??= providerTypes(this.#providers);
    return this.#types.get(id);
  }

  /**
   * Emits one record and returns at once: the record is handed to the pipeline synchronously
   * (unless the user's beforeLog is async) and nothing here waits for an exporter.
   */
  record(fields: EventFields): void {
    if (!this.enabled) return;
    try {
      const request = currentScope()?.request;
      const event = this.logger.complete({
        ...fields,
        ipAddress: this.#capture.ipAddress ? request?.ipAddress : undefined,
        userAgent: this.#capture.userAgent ? request?.userAgent : undefined,
        method: request?.method,
        path: request?.path,
      });
      this.logger.emit(event).catch((error: unknown) => diag.error("otel-auth-audit: an Auth.js record was not emitted", error));
    } catch (error) {
      // the audit trail never breaks a sign-in
      diag.error("otel-auth-audit: an Auth.js record was not emitted", error);
    }
  }
}
