import * as z from "zod";
import { AUDIT_SEVERITIES } from "../event.js";
import { optionSchemas, parseOptions } from "../options.js";
import { isTrustEntry } from "./client-address.js";
import type { WithAuditOptions } from "./types.js";

const severity = z.enum(AUDIT_SEVERITIES as [string, ...string[]]);
const otelSeverity = z.strictObject({ number: z.number().int().min(1).max(24), text: z.string() });

const schema = z.strictObject({
  enabled: z.boolean().optional(),
  loggerProvider: optionSchemas.withMethods("getLogger").optional(),
  logger: optionSchemas.withMethods("emit", "complete").optional(),
  severity: z.union([z.record(z.string(), severity), optionSchemas.fn()]).optional(),
  severityMapping: z.strictObject({ low: otelSeverity, medium: otelSeverity, high: otelSeverity, critical: otelSeverity }).partial().optional(),
  beforeLog: optionSchemas.fn().optional(),
  afterLog: optionSchemas.fn().optional(),
  capture: z.strictObject({ ipAddress: z.boolean(), userAgent: z.boolean() }).partial().optional(),
  events: z.strictObject({ session: z.boolean() }).partial().optional(),
  trustedProxies: z
    .union([
      z.number().int().min(0).max(32),
      z.array(z.string().refine(isTrustEntry, { message: 'expected an IP address, a CIDR range, "loopback" or "private"' })),
    ])
    .optional(),
  userHash: z
    .union([
      z.literal(false),
      z.strictObject({ key: z.string().min(16).optional(), fields: z.array(z.string().min(1)).min(1).optional() }),
    ])
    .optional(),
  headers: optionSchemas.fn().optional(),
});

/** Checks `withAudit`'s options at construction; throws AuditOptionsError naming the option. */
export function parseWithAuditOptions(options: unknown): WithAuditOptions {
  parseOptions("withAudit", schema, options);
  // the user's own objects (functions, the provider) are kept as given, not zod's copies
  return (options ?? {}) as WithAuditOptions;
}
