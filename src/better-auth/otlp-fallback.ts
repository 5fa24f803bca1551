import type { LoggerProvider } from "@opentelemetry/api";
import type { RedactionOptions } from "../processors/redaction.js";
import { setupAudit } from "../setup.js";

let fallback: LoggerProvider | undefined;

/**
 * Zero config with an endpoint: an app with no OTel SDK but `OTEL_EXPORTER_OTLP_ENDPOINT` (or
 * `…_LOGS_ENDPOINT`) set still ships its audit records — through the full pipeline of setupAudit
 * (redaction, hash chain, durable spool, OTLP/HTTP), not registered globally. One per process.
 */
export function otlpFromEnvironment(redaction: RedactionOptions): LoggerProvider | undefined {
  if (!process.env.OTEL_EXPORTER_OTLP_ENDPOINT && !process.env.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT) return undefined;
  fallback ??= setupAudit({ global: false, redaction }).provider;
  return fallback;
}
