import { logs } from "@opentelemetry/api";
import { OTLPLogExporter } from "@opentelemetry/exporter-logs-otlp-http";
import { defaultResource, detectResources, envDetector, resourceFromAttributes, type Resource } from "@opentelemetry/resources";
import {
  BatchLogRecordProcessor,
  LoggerProvider,
  type LogRecordExporter,
  type LogRecordProcessor,
} from "@opentelemetry/sdk-logs";
import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";
import { AuditLogger, type AuditLoggerOptions } from "./emit.js";

export interface SetupAuditOptions extends Omit<AuditLoggerOptions, "loggerProvider"> {
  /** `service.name` of the resource; `OTEL_SERVICE_NAME` / `OTEL_RESOURCE_ATTRIBUTES` win when set. */
  serviceName?: string;
  /** Where records go. Default: OTLP/HTTP configured by the standard `OTEL_EXPORTER_OTLP_*` variables. */
  exporter?: LogRecordExporter;
  /** Replaces the whole processor list (then `exporter` is ignored). */
  processors?: LogRecordProcessor[];
  /** Merged onto the detected resource. */
  resource?: Resource;
  /** Register the provider as the global one (`logs.setGlobalLoggerProvider`). Default true. */
  global?: boolean;
}

export interface AuditSetup {
  provider: LoggerProvider;
  /** An AuditLogger bound to `provider`, for manual events. */
  audit: AuditLogger;
  /** Flushes what is pending, then stops the provider. */
  shutdown(): Promise<void>;
}

/** Builds a LoggerProvider for audit records, with the OTLP exporter unless told otherwise. */
export function setupAudit(options: SetupAuditOptions = {}): AuditSetup {
  const { serviceName, exporter, processors, resource, global = true, ...loggerOptions } = options;
  let res = defaultResource();
  if (serviceName) res = res.merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: serviceName }));
  if (resource) res = res.merge(resource);
  res = res.merge(detectResources({ detectors: [envDetector] }));
  const provider = new LoggerProvider({
    resource: res,
    processors: processors ?? [new BatchLogRecordProcessor({ exporter: exporter ?? new OTLPLogExporter() })],
  });
  if (global) logs.setGlobalLoggerProvider(provider);
  const audit = new AuditLogger({ ...loggerOptions, loggerProvider: provider });
  return {
    provider,
    audit,
    shutdown: async () => {
      await provider.forceFlush();
      await provider.shutdown();
    },
  };
}
