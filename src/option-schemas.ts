import * as z from "zod";
import { AUDIT_SEVERITIES, type AuditSeverity } from "./event.js";
import { optionSchemas } from "./options.js";
import type { SecretInput } from "./chain/keys.js";

/**
 * The zod schemas of the core constructors' options, one per constructor, built from shared
 * pieces. Each constructor runs `parseOptions(name, schema, options)` first thing, so a wrong
 * value is refused at startup with the option's name, never silently reinterpreted.
 */

const { fn, withMethods, positiveInt, nonNegativeInt } = optionSchemas;

export const severitySchema = z.enum(AUDIT_SEVERITIES as [AuditSeverity, ...AuditSeverity[]]);

export const secretSchema = z.custom<SecretInput>(
  (v) =>
    (typeof v === "string" && v.trim().length > 0) ||
    v instanceof Uint8Array ||
    (typeof v === "object" && v !== null && (v as { type?: unknown }).type === "secret"),
  { message: "expected a string that is not blank, a Buffer or a secret KeyObject" },
);

/** `"all"` or a non-empty list: a lone scope name given as a string would otherwise match no record. */
export const scopesSchema = z.union([z.literal("all"), z.array(z.string().min(1)).min(1)]);

const otelSeveritySchema = z.strictObject({ number: z.number().int().min(1).max(24), text: z.string().min(1) });

/** AuditLoggerOptions (AuditLogger, createAuditLogger, and the loggers setupAudit / the plugin build). */
export const auditLoggerShape = {
  loggerProvider: withMethods("getLogger").optional(),
  whenNoGlobalProvider: fn().optional(),
  enabled: z.boolean().optional(),
  severity: z.union([z.record(z.string(), severitySchema.optional()), fn()]).optional(),
  severityMapping: z
    .strictObject({
      low: otelSeveritySchema.optional(),
      medium: otelSeveritySchema.optional(),
      high: otelSeveritySchema.optional(),
      critical: otelSeveritySchema.optional(),
    })
    .optional(),
  beforeLog: fn().optional(),
  afterLog: fn().optional(),
};
export const auditLoggerOptionsSchema = z.strictObject(auditLoggerShape);

const thresholdSchema = z.union([
  z.literal(false),
  z.strictObject({ max: nonNegativeInt().optional(), windowMs: positiveInt().optional() }),
]);

export const bruteForceOptionsSchema = z.strictObject({
  accountIp: thresholdSchema.optional(),
  ip: thresholdSchema.optional(),
  account: thresholdSchema.optional(),
  maxKeys: positiveInt().optional(),
  onSuspected: fn().optional(),
  shared: withMethods("add").optional(),
  now: fn().optional(),
});

const asymmetricKeySchema = z.custom(
  (v) => (typeof v === "string" && v.length > 0) || v instanceof Uint8Array || (typeof v === "object" && v !== null && typeof (v as { type?: unknown }).type === "string"),
  { message: "expected PEM text, a Buffer or a KeyObject" },
);

export const integrityOptionsSchema: z.ZodType = z.strictObject({
  key: secretSchema.optional(),
  signingKey: asymmetricKeySchema.optional(),
  checkpointEvery: nonNegativeInt().optional(),
  checkpointIntervalMs: nonNegativeInt().optional(),
  loggerProvider: withMethods("getLogger").optional(),
  scopes: scopesSchema.optional(),
  chainId: z.string().min(1).max(200).optional(),
});

/** The processor options auditProcessors and setupAudit share. `durable` is checked by the DurableLogRecordProcessor itself. */
export function processorsShape(redaction: z.ZodType) {
  return {
    redaction: z.union([z.literal(false), redaction]).optional(),
    integrity: z.union([z.literal(false), integrityOptionsSchema]).optional(),
    exporter: withMethods("export", "shutdown").optional(),
    durable: z.union([z.boolean(), z.record(z.string(), z.unknown())]).optional(),
  };
}
