import { OTLPLogExporter } from "@opentelemetry/exporter-logs-otlp-http";
import { BatchLogRecordProcessor, InMemoryLogRecordExporter, SimpleLogRecordProcessor, type ReadableLogRecord } from "@opentelemetry/sdk-logs";
import { IntegrityProcessor, RedactionProcessor, setupAudit } from "otel-auth-audit";
import { auditLog } from "otel-auth-audit/better-auth";
import { createAuthApp, type Outbox } from "../../helpers/auth-app.js";

export const PASSWORD = "correct-horse-battery-1";
export const CHAIN_KEY = "e2e-chain-key-0123456789abcdef";

export interface AuditedAppOptions {
  /** OTLP/HTTP logs URL of the collector. */
  url: string;
  serviceName: string;
  capture?: NonNullable<Parameters<typeof auditLog>[0]>["capture"];
}

/**
 * A real better-auth app whose audit records go through the full pipeline — redaction,
 * integrity chain, batch, OTLP/HTTP — to the collector. A copy of every record as the app
 * emitted it (after redaction and chaining) is kept in memory, to compare with what Loki returns.
 */
export async function createAuditedApp(options: AuditedAppOptions) {
  const exporter = new OTLPLogExporter({ url: options.url });
  const emitted = new InMemoryLogRecordExporter();
  const integrity = new IntegrityProcessor({ key: CHAIN_KEY, checkpointIntervalMs: 0 });
  const setup = setupAudit({
    serviceName: options.serviceName,
    global: false,
    // the same processors setupAudit would put first, held here so finish() can close the chain
    redaction: false,
    integrity: false,
    processors: [
      new RedactionProcessor(),
      integrity,
      new BatchLogRecordProcessor({ exporter, scheduledDelayMillis: 200 }),
      new SimpleLogRecordProcessor({ exporter: emitted }),
    ],
  });
  integrity.bind(setup.provider);
  const outbox: Outbox = {};
  const app = await createAuthApp({
    emailAndPassword: {
      enabled: true,
      sendResetPassword: async ({ token }) => {
        outbox.resetToken = token;
      },
    },
    user: { deleteUser: { enabled: true } },
    plugins: [auditLog({ loggerProvider: setup.provider, capture: options.capture })],
  });
  return {
    ...app,
    ...setup,
    outbox,
    integrity,
    /** Every record the app emitted, after redaction and chaining. */
    emitted: (): ReadableLogRecord[] => emitted.getFinishedLogRecords(),
    /** Closes the chain (final checkpoint) and delivers everything to the collector. */
    async finish(): Promise<void> {
      integrity.close();
      await setup.provider.forceFlush();
    },
  };
}
