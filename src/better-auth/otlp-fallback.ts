import type { LoggerProvider } from "@opentelemetry/api";
import { writeSync } from "node:fs";
import type { RedactionOptions } from "../processors/redaction.js";
import { setupAudit, type AuditSetup } from "../setup.js";

let fallback: AuditSetup | undefined;

/**
 * Zero config with an endpoint: an app with no OTel SDK but `OTEL_EXPORTER_OTLP_ENDPOINT` (or
 * `…_LOGS_ENDPOINT`) set still ships its audit records — through the full pipeline of setupAudit
 * (redaction, hash chain, durable spool, OTLP/HTTP), not registered globally. One per process.
 *
 * Nobody owns this provider, so it shuts itself down when the process runs out of work
 * (`beforeExit`: a script that ends normally delivers what it recorded, within the spool's
 * shutdown bound, or is told what stays spooled). A process ended by `process.exit()` gets no
 * chance to send: it is warned on stderr, with the spool's path and count.
 */
export function otlpFromEnvironment(redaction: RedactionOptions): LoggerProvider | undefined {
  if (!process.env.OTEL_EXPORTER_OTLP_ENDPOINT && !process.env.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT) return undefined;
  if (!fallback) {
    const setup = (fallback = setupAudit({ global: false, redaction }));
    let closing: Promise<void> | undefined;
    process.once("beforeExit", () => {
      closing ??= setup.shutdown();
    });
    process.once("exit", () => {
      if (closing) return;
      const health = setup.durable?.health();
      if (health && health.spooledRecords > 0) {
        const message =
          `otel-auth-audit: the process exits with ${health.spooledRecords} audit records not yet sent; ` +
          `they stay in ${health.directory} and are sent by the next process that starts with this spool\n`;
        try {
          writeSync(2, message);
        } catch {
          // stderr closed: nothing left to tell
        }
      }
    });
  }
  return fallback.provider;
}
