import { diag } from "@opentelemetry/api";
import { userHashOf } from "../better-auth/user-hash.js";
import { AuditLogger } from "../emit.js";
import type { AuditEventInput } from "../event.js";
import { providerTypes } from "./actions.js";
import { ClientAddressResolver } from "./client-address.js";
import { DEFAULT_IDENTIFIER_FIELDS, identifierOf } from "./identifier.js";
import { infoFromHeaders, newScope, type RequestScope } from "./request-context.js";
import type { CaptureOptions, WithAuditOptions } from "./types.js";

const DEFAULT_CAPTURE: CaptureOptions = { ipAddress: true, userAgent: true };

export type EventFields = Pick<AuditEventInput, "action" | "outcome" | "userId" | "error" | "metadata" | "statusCode"> & {
  /** The identifier a failed attempt named (raw, in process only): recorded as its keyed hash. */
  identifier?: string;
};

/** What one audited Auth.js config tells the recorder: its providers and its secret. */
export interface ConfigView {
  providerType(id: string | undefined): string | undefined;
  /** The id when it names a configured provider: anything else in a URL is the client's text. */
  knownProvider(id: string | undefined): string | undefined;
  secret(): string | undefined;
}

/** A view of a config, computed lazily (provider functions are called once, on first need). */
export function configView(config: { providers?: unknown; secret?: unknown }): ConfigView {
  let types: Map<string, string> | undefined;
  const typeOf = (id: string | undefined) => (id ? (types ??= providerTypes(config.providers)).get(id) : undefined);
  return {
    providerType: typeOf,
    knownProvider: (id) => (typeOf(id) ? id : undefined),
    secret: () => {
      // read at record time: next-auth fills `secret` from the environment on the first request
      const secret = Array.isArray(config.secret) ? config.secret[0] : config.secret;
      return typeof secret === "string" && secret !== "" ? secret : undefined;
    },
  };
}

/** Turns what Auth.js tells us into audit records, adding the request's context. One per `withAudit` call. */
export class AuthjsRecorder {
  readonly logger: AuditLogger;
  readonly sessionEvents: boolean;
  readonly identifierFields: readonly string[];
  #capture: CaptureOptions;
  #enabled: boolean;
  #addresses: ClientAddressResolver;
  #options: WithAuditOptions;
  #hashOwner: { key?: string } = {};

  constructor(options: WithAuditOptions) {
    this.#options = options;
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
    this.#capture = {
      ipAddress: options.capture?.ipAddress ?? DEFAULT_CAPTURE.ipAddress,
      userAgent: options.capture?.userAgent ?? DEFAULT_CAPTURE.userAgent,
    };
    this.#enabled = options.enabled ?? true;
    this.sessionEvents = options.events?.session ?? false;
    this.identifierFields = (options.userHash && options.userHash.fields) || DEFAULT_IDENTIFIER_FIELDS;
    this.#addresses = new ClientAddressResolver(options.trustedProxies ?? 0);
  }

  get enabled(): boolean {
    return this.#enabled && this.logger.enabled;
  }

  /** The identifier named by submitted credentials (in process only). */
  identifierOf(credentials: unknown): string | undefined {
    return identifierOf(credentials, this.identifierFields);
  }

  /**
   * Emits one record and returns at once: the record is handed to the pipeline synchronously
   * (unless the user's beforeLog is async, or the request is known only from `headers()`), and
   * nothing here waits for an exporter.
   */
  record(fields: EventFields, view: ConfigView, scope: RequestScope | undefined): void {
    if (!this.enabled) return;
    try {
      const { headers } = this.#options;
      if (scope || !headers) return this.#emit(fields, view, scope);
      // a server action or an unwrapped route: Next.js's headers() knows the request; outside
      // one it throws, and the record goes out without request context
      new Promise<Parameters<typeof infoFromHeaders>[0]>((resolve) => resolve(headers()))
        .then((found) => newScope(infoFromHeaders(found)))
        .catch(() => undefined)
        .then((found) => this.#emit(fields, view, found));
    } catch (error) {
      // the audit trail never breaks a sign-in
      diag.error("otel-auth-audit: an Auth.js record was not emitted", error);
    }
  }

  #emit({ identifier, ...fields }: EventFields, view: ConfigView, scope: RequestScope | undefined): void {
    try {
      const request = scope?.request;
      const event = this.logger.complete({
        ...fields,
        userHash: identifier === undefined ? undefined : this.#hash(identifier, view),
        ipAddress: this.#capture.ipAddress && request ? this.#addresses.resolve(request.peerAddress, request.forwardedFor, request.realIp) : undefined,
        userAgent: this.#capture.userAgent ? request?.userAgent : undefined,
        method: request?.method,
        path: request ? pathOf(request, view) : undefined,
      });
      this.logger.emit(event).catch((error: unknown) => diag.error("otel-auth-audit: an Auth.js record was not emitted", error));
    } catch (error) {
      diag.error("otel-auth-audit: an Auth.js record was not emitted", error);
    }
  }

  /** The keyed hash the better-auth adapter records too, so one detector reads both. */
  #hash(identifier: string, view: ConfigView): string | undefined {
    if (this.#options.userHash === false) return undefined;
    const key = this.#options.userHash?.key ?? view.secret() ?? envSecret();
    if (!key) {
      diag.warn("otel-auth-audit: no key for user.hash (set the Auth.js secret or withAudit's userHash.key): failures carry no account key");
      return undefined;
    }
    if (this.#hashOwner.key !== key) this.#hashOwner = { key };
    return userHashOf({ email: identifier }, key, this.#hashOwner);
  }
}

const envSecret = (): string | undefined => process.env.AUTH_SECRET || process.env.NEXTAUTH_SECRET || undefined;

/** `url.path`, with a provider segment that names no configured provider replaced by `[provider]`. */
function pathOf(request: RequestScope["request"], view: ConfigView): string | undefined {
  const { path, basePath, authAction, providerId } = request;
  if (!path || basePath === undefined || !authAction) return undefined;
  if (providerId === undefined || view.knownProvider(providerId)) return path;
  return `${basePath}/${authAction}/[provider]`;
}
