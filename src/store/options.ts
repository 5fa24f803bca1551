import * as z from "zod";
import { optionSchemas } from "../options.js";
import { storageSchema } from "./storage.js";
import { retentionShape } from "./retention.js";
import { storeBatchShape } from "./write-batcher.js";

export const metadataLimitsSchema = z.union([
  z.literal(false),
  z.strictObject({ maxBytes: optionSchemas.positiveInt().optional(), maxDepth: optionSchemas.positiveInt().max(100).optional() }),
]);

const schemaOptionSchema = z.strictObject({
  auditLog: z
    .strictObject({
      modelName: z.string().min(1).optional(),
      fields: z.record(z.string(), z.string().min(1)).optional(),
    })
    .optional(),
});

/**
 * `tamperDetection` (a later better-auth-audit-logs option) is refused rather than silently
 * ignored: the stored rows are not chained; the IntegrityProcessor chains the exported records.
 */
const tamperDetectionSchema = z.custom<false>((v) => v === false || v === undefined, {
  message:
    "is not supported: the stored rows are not hash-chained. Chain the exported records instead: put an IntegrityProcessor in your LoggerProvider (see docs/processors.md) and check them with `otel-auth-audit verify`",
});

/**
 * The store's keys of `auditLog({...})`, each validated at construction. The plugin's strict
 * options schema spreads this shape.
 */
export const storeOptionsShape = {
  store: z.boolean().optional(),
  storage: storageSchema.optional(),
  storeProcessors: z.array(optionSchemas.withMethods<unknown>("onEmit", "forceFlush", "shutdown")).optional(),
  storeBatch: z.strictObject(storeBatchShape).optional(),
  retention: z
    .strictObject({ ...retentionShape, days: retentionShape.days.optional() })
    .refine((r) => r.enabled === false || r.days !== undefined, { message: "retention.days is required (a positive number of days)", path: ["days"] })
    .optional(),
  onWriteError: optionSchemas.fn().optional(),
  metadataLimits: metadataLimitsSchema.optional(),
  beforePaths: z.array(z.string().startsWith("/")).optional(),
  tamperDetection: tamperDetectionSchema.optional(),
  schema: schemaOptionSchema.optional(),
};
