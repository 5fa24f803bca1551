import { logs } from "@opentelemetry/api";
import { OTLPLogExporter } from "@opentelemetry/exporter-logs-otlp-http";
import { defaultResource, detectResources, envDetector, resourceFromAttributes, type Resource } from "@opentelemetry/resources";
import { LoggerProvider, type LogRecordExporter, type LogRecordProcessor } from "@opentelemetry/sdk-logs";
import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";
import { AuditLogger, type AuditLoggerOptions } from "./emit.js";
import { DurableLogRecordProcessor, type DurableLogRecordProcessorOptions } from "./durable/processor.js";
import { auditProcessors, bindProcessors, type AuditProcessorsOptions } from "./pipeline.js";
import { parseOptions, optionSchemas } from "./options.js";
import { auditLoggerShape, processorsShape } from "./option-schemas.js";
import { redactionOptionsSchema } from "./processors/redaction.js";
import * as z from "zod";

const { loggerProvider: _provider, ...loggerShape } = auditLoggerShape;
const setupAuditSchema = z.strictObject({
  ...loggerShape,
  ...processorsShape(redactionOptionsSchema),
  serviceName: z.string().min(1).optional(),
  processors: z.array(optionSchemas.withMethods("onEmit", "forceFlush", "shutdown")).optional(),
  resource: optionSchemas.withMethods("merge").optional(),
  global: z.boolean().optional(),
});

export interface SetupAuditOptions extends Omit<AuditLoggerOptions, "loggerProvider">, Pick<AuditProcessorsOptions, "redaction" | "integrity"> {
  /** `service.name` of the resource; `OTEL_SERVICE_NAME` / `OTEL_RESOURCE_ATTRIBUTES` win when set. */
  serviceName?: string;
  /** Where records go. Default: OTLP/HTTP configured by the standard `OTEL_EXPORTER_OTLP_*` variables. */
  exporter?: LogRecordExporter;
  /**
   * The exporting processors, replacing the default one for `exporter`. Redaction and the hash
   * chain still come first (turn them off with `redaction: false` / `integrity: false`).
   */
  processors?: LogRecordProcessor[];
  /** Merged onto the detected resource. */
  resource?: Resource;
  /** Register the provider as the global one (`logs.setGlobalLoggerProvider`). Default true. */
  global?: boolean;
  /**
   * A disk spool in front of the exporter, so no record is lost to bursts, outages or crashes
   * (default on; options configure it). `false`: the SDK's Batch processor, which drops silently
   * when its queue is full.
   */
  durable?: boolean | Omit<DurableLogRecordProcessorOptions, "exporter">;
}

export interface AuditSetup {
  provider: LoggerProvider;
  /** An AuditLogger bound to `provider`, for manual events. */
  audit: AuditLogger;
  /** The durable processor when in use: `health()`, `forceFlush()`. */
  durable?: DurableLogRecordProcessor;
  /** Closes the hash chain with a final checkpoint, flushes what is pending, then stops the provider. */
  shutdown(): Promise<void>;
}

/**
 * Builds a LoggerProvider for audit records: RedactionProcessor → IntegrityProcessor →
 * DurableLogRecordProcessor (disk spool) → exporter (OTLP/HTTP from the standard environment
 * unless told otherwise).
 */
export function setupAudit(options: SetupAuditOptions = {}): AuditSetup {
  parseOptions("setupAudit", setupAuditSchema, options);
  const { serviceName, exporter, processors, resource, global = true, redaction, integrity, durable = true, ...loggerOptions } = options;
  let res = defaultResource();
  if (serviceName) res = res.merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: serviceName }));
  if (resource) res = res.merge(resource);
  res = res.merge(detectResources({ detectors: [envDetector] }));
  const all = [
    ...auditProcessors({ redaction, integrity, exporter: processors ? undefined : (exporter ?? new OTLPLogExporter()), durable }),
    ...(processors ?? []),
  ];
  const durableProcessor = all.find((p): p is DurableLogRecordProcessor => p instanceof DurableLogRecordProcessor);
  const provider = new LoggerProvider({ resource: res, processors: all });
  bindProcessors(all, provider);
  if (global) logs.setGlobalLoggerProvider(provider);
  const audit = new AuditLogger({ ...loggerOptions, loggerProvider: provider });
  return {
    provider,
    audit,
    durable: durableProcessor,
    shutdown: async () => {
      // the IntegrityProcessor closes its chain in its own shutdown(), inside provider.shutdown()
      // the durable processor flushes in its own shutdown; a forceFlush first would wait twice when the collector is down
      if (!durableProcessor) await provider.forceFlush();
      await provider.shutdown();
    },
  };
}
