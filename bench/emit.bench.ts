/** Per-record cost of the audit pipeline vs a bare `logger.emit` through the same SDK. */
import { randomUUID } from "node:crypto";
import { BatchLogRecordProcessor, LoggerProvider } from "@opentelemetry/sdk-logs";
import { setupAudit } from "otel-auth-audit";
import { interleave, printTable, writeFigures } from "./lib.js";
import { NoopExporter } from "./noop-exporter.js";

const bare = new LoggerProvider({ processors: [new BatchLogRecordProcessor({ exporter: new NoopExporter() })] });
const bareLogger = bare.getLogger("bare");
// the default pipeline of setupAudit, with the network replaced by a no-op exporter
// map + redact + chain + batch, as DESIGN.md defines the figure (the durable spool is measured in durable.bench.ts)
const { audit, provider } = setupAudit({ serviceName: "bench", exporter: new NoopExporter(), global: false, durable: false, integrity: { key: "bench-key", checkpointIntervalMs: 0 } });

const BARE_ATTRIBUTES = { "audit.action": "sign-in:email", "audit.outcome": "failure", "audit.severity": "high", "client.address": "203.0.113.9", "user_agent.original": "bench/1.0", "http.request.method": "POST", "url.path": "/sign-in/email", "http.response.status_code": 401, "error.type": "INVALID_EMAIL_OR_PASSWORD" };
const attempt = { action: "sign-in:email", outcome: "failure", userId: null, ipAddress: "203.0.113.9", userAgent: "bench/1.0", method: "POST", path: "/sign-in/email", statusCode: 401, error: "INVALID_EMAIL_OR_PASSWORD" } as const;

const result = await interleave(
  {
    bare: (ops) => {
      for (let i = 0; i < ops; i++) {
        // the same record the pipeline produces, built by hand
        bareLogger.emit({ eventName: "auth.sign_in.email", timestamp: new Date(), severityNumber: 13, severityText: "WARN", body: "sign-in:email failure: INVALID_EMAIL_OR_PASSWORD", attributes: { ...BARE_ATTRIBUTES, "audit.id": randomUUID() } });
      }
      return bare.forceFlush();
    },
    pipeline: (ops) => {
      for (let i = 0; i < ops; i++) void audit.record(attempt);
      return provider.forceFlush();
    },
  },
  { rounds: 21, ops: 2000 },
);
const ratio = result.pipeline / result.bare;
printTable([
  { variant: "bare logger.emit (Batch)", "µs/record": result.bare.toFixed(2) },
  { variant: "audit pipeline (map + redact + chain + batch)", "µs/record": result.pipeline.toFixed(2), ratio: ratio.toFixed(2) },
]);
writeFigures({ "emit.pipeline_vs_bare": { value: result.pipeline, unit: "µs/record", baseline: result.bare, ratio } });
await Promise.all([bare.shutdown(), provider.shutdown()]);
