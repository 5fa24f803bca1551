/**
 * Telemetry set up once, at startup, before the app: `node --import ./instrumentation.ts app.ts`.
 * The audit processors ride in the app's one logging pipeline and act only on audit records.
 */
import { OTLPLogExporter } from "@opentelemetry/exporter-logs-otlp-http";
import { NodeSDK } from "@opentelemetry/sdk-node";
import { AuthAuditInstrumentation, auditProcessors } from "otel-auth-audit";

// this example is about logs: without these, NodeSDK also starts OTLP metric and trace exporters
process.env.OTEL_METRICS_EXPORTER ??= "none";
process.env.OTEL_TRACES_EXPORTER ??= "none";

export const authAudit = new AuthAuditInstrumentation();

export const sdk = new NodeSDK({
  serviceName: process.env.OTEL_SERVICE_NAME ?? "nodesdk-example",
  instrumentations: [authAudit],
  // redaction, then the hash chain (key from OTEL_AUTH_AUDIT_KEY), then a disk spool in front of OTLP
  logRecordProcessors: auditProcessors({ exporter: new OTLPLogExporter() }),
});
sdk.start();
