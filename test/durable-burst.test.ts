import { OTLPLogExporter } from "@opentelemetry/exporter-logs-otlp-http";
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordProcessor } from "@opentelemetry/sdk-logs";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { AuditLogger, DurableLogRecordProcessor } from "otel-auth-audit";
import { startReceiver } from "./helpers/otlp-receiver.js";

const BURST = 200_000;

function burst(processor: LogRecordProcessor, prefix: string): { provider: LoggerProvider; ids: string[] } {
  const provider = new LoggerProvider({ processors: [processor] });
  const audit = new AuditLogger({ loggerProvider: provider });
  const ids: string[] = [];
  for (let i = 0; i < BURST; i++) {
    const id = `${prefix}-${i}`;
    ids.push(id);
    void audit.record({ id, action: "sign-in:email", outcome: "success", userId: `user-${i % 1000}`, ipAddress: "203.0.113.7" });
  }
  return { provider, ids };
}

it("a synchronous burst of 200,000 records: all arrive through the durable path; the bare Batch path loses most", async () => {
  const rx = await startReceiver();
  const directory = mkdtempSync(join(tmpdir(), "otel-auth-audit-burst-"));
  try {
    // The anchor: the SDK's own pipeline, default settings.
    const bare = burst(new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: rx.url }) }), "bare");
    await bare.provider.forceFlush().catch(() => undefined);
    await bare.provider.shutdown();
    const bareDelivered = bare.ids.filter((id) => rx.ids.has(id)).length;

    const durable = burst(new DurableLogRecordProcessor({ exporter: new OTLPLogExporter({ url: rx.url }), directory, flushTimeoutMillis: 100_000 }), "durable");
    await durable.provider.forceFlush();
    expect(await rx.waitFor(durable.ids, 20_000)).toBe(true);
    await durable.provider.shutdown();

    console.info(`burst of ${BURST}: bare Batch+OTLP delivered ${bareDelivered} (lost ${BURST - bareDelivered}); durable delivered ${BURST}`);
    expect(BURST - bareDelivered).toBeGreaterThan(BURST / 2);
  } finally {
    await rx.close();
    rmSync(directory, { recursive: true, force: true });
  }
}, 150_000);
