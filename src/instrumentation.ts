import type { LoggerProvider } from "@opentelemetry/api";
import { InstrumentationBase, type InstrumentationConfig } from "@opentelemetry/instrumentation";
import type { AuditLogOptions } from "./better-auth/index.js";
import { withAudit } from "./authjs/with-audit.js";
import type { AuthConfigLike, WithAuditOptions } from "./authjs/types.js";
import { readEnvConfig } from "./config.js";
import { AuditLogger, type AuditLoggerOptions } from "./emit.js";
import { SCOPE_NAME, VERSION } from "./version.js";
import { parseOptions } from "./options.js";
import { auditLogOptionsSchema } from "./better-auth/options.js";
import { auditLoggerShape } from "./option-schemas.js";
import * as z from "zod";

const { loggerProvider: _provider, enabled: _enabled, ...loggerShape } = auditLoggerShape;
const instrumentationSchema = z.strictObject({
  ...loggerShape,
  enabled: z.boolean().optional(),
  // the logger's own options (beforeLog, …) go at the top level: the plugin emits through this logger
  betterAuth: auditLogOptionsSchema
    .omit({ logger: true, loggerProvider: true, beforeLog: true, afterLog: true, severity: true, severityMapping: true })
    .optional(),
});

export interface AuthAuditInstrumentationConfig
  extends InstrumentationConfig,
    Omit<AuditLoggerOptions, "loggerProvider" | "enabled"> {
  /** Defaults for the better-auth plugin this instrumentation hands out. */
  betterAuth?: Omit<AuditLogOptions, "logger" | "loggerProvider" | "beforeLog" | "afterLog" | "severity" | "severityMapping">;
}

/**
 * The audit trail as an OpenTelemetry instrumentation. Like `@fastify/otel` it patches nothing:
 * it hooks the auth libraries through their own plugin/event APIs, and gives out adapters bound to
 * itself. Register it like any other:
 * `new NodeSDK({ instrumentations: [audit], logRecordProcessors: [...auditProcessors(), …] })`,
 * then `betterAuth({ plugins: [auditLogFor(audit)] })` (`otel-auth-audit/better-auth`: better-auth is
 * an optional peer, so the package root never imports it).
 */
export class AuthAuditInstrumentation extends InstrumentationBase<AuthAuditInstrumentationConfig> {
  /** The logger every adapter of this instrumentation emits through. */
  readonly audit: AuditLogger;

  constructor(config: AuthAuditInstrumentationConfig = {}) {
    parseOptions("AuthAuditInstrumentation", instrumentationSchema, config);
    const env = readEnvConfig();
    const merged: AuthAuditInstrumentationConfig = {
      ...config,
      enabled: config.enabled ?? env.enabled ?? true,
      betterAuth: { ...config.betterAuth, capture: { ...env.capture, ...config.betterAuth?.capture } },
    };
    super(SCOPE_NAME, VERSION, merged);
    const { betterAuth: _defaults, ...loggerOptions } = merged;
    this.audit = new AuditLogger({ ...loggerOptions, enabled: merged.enabled });
  }

  /** Patches nothing: auth libraries are hooked through their plugin APIs. */
  protected override init() {
    return [];
  }

  override setLoggerProvider(loggerProvider: LoggerProvider): void {
    super.setLoggerProvider(loggerProvider);
    this.audit?.setLoggerProvider(loggerProvider);
  }

  override setConfig(config: AuthAuditInstrumentationConfig = {}): void {
    super.setConfig(config);
    if (this.audit && config.enabled !== undefined) this.audit.enabled = config.enabled;
  }

  override enable(): void {
    super.enable();
    // the base constructor calls enable() before `audit` exists
    if (this.audit) this.audit.enabled = true;
  }

  override disable(): void {
    super.disable();
    if (this.audit) this.audit.enabled = false;
  }

  /**
   * Wraps an Auth.js / NextAuth config so its events and failures emit through this
   * instrumentation: `NextAuth(authAudit.authjs({ providers: [...] }))`.
   */
  authjs<C extends AuthConfigLike>(config: C, options: Omit<WithAuditOptions, "logger" | "loggerProvider"> = {}): C {
    // only the capture settings Auth.js has (withAudit refuses unknown options)
    const { ipAddress, userAgent } = this.getConfig().betterAuth?.capture ?? {};
    return withAudit(config, { ...options, capture: { ipAddress, userAgent, ...options.capture }, logger: this.audit });
  }
}
