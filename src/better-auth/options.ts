import * as z from "zod";
import { optionSchemas } from "../options.js";
import { storeOptionsShape } from "../store/options.js";
import { auditLoggerShape, bruteForceOptionsSchema, severitySchema } from "../option-schemas.js";

const { fn, withMethods, positiveInt } = optionSchemas;

/**
 * A `paths` pattern: a route as better-auth names it, with its leading slash (`/sign-in/email`),
 * or a prefix ending in `*` (`/two-factor/*`). `sign-in/*` (no slash) would match nothing and is
 * refused rather than silently ignored; so is a `*` anywhere but at the end.
 */
const pathPattern = z
  .string()
  .regex(/^\/[^*\s]*\*?$/, { message: 'expected a path starting with "/", optionally ending in "*" (e.g. "/sign-in/*")' });

const captureSchema = z.strictObject({
  ipAddress: z.boolean().optional(),
  userAgent: z.boolean().optional(),
  requestBody: z.boolean().optional(),
});

const pathOptionSchema = z.union([
  pathPattern,
  z.strictObject({
    path: pathPattern,
    config: z.strictObject({ severity: severitySchema.optional(), capture: captureSchema.optional() }).optional(),
  }),
]);

const rateLimitRuleSchema = z.strictObject({ window: positiveInt(), max: positiveInt() });

/** The options of `auditLog()`, checked when the plugin is made. */
export const auditLogOptionsSchema = z.strictObject({
  beforeLog: auditLoggerShape.beforeLog,
  afterLog: auditLoggerShape.afterLog,
  severity: auditLoggerShape.severity,
  severityMapping: auditLoggerShape.severityMapping,
  enabled: z.boolean().optional(),
  loggerProvider: auditLoggerShape.loggerProvider,
  logger: withMethods("emit", "complete", "record").optional(),
  paths: z.array(pathOptionSchema).optional(),
  capture: captureSchema.optional(),
  bruteForce: z.union([z.boolean(), bruteForceOptionsSchema]).optional(),
  nonBlocking: z.boolean().optional(),
  exposeUserAgent: z.boolean().optional(),
  canReadAll: fn().optional(),
  canInsertPrivileged: fn().optional(),
  insert: z.union([z.literal(false), z.strictObject({ maxMetadataBytes: positiveInt().optional() })]).optional(),
  rateLimit: z.strictObject({ read: rateLimitRuleSchema.optional(), insert: rateLimitRuleSchema.optional() }).optional(),
  piiRedaction: z
    .strictObject({
      enabled: z.boolean().optional(),
      strategy: z.enum(["mask", "hash", "remove"]).optional(),
      fields: z.array(z.string().min(1)).optional(),
    })
    .optional(),
  // the store's keys: storage, retention, storeBatch, onWriteError, metadataLimits, beforePaths, …
  ...storeOptionsShape,
});
