import { LoggerProvider, type LogRecordExporter } from "@opentelemetry/sdk-logs";
import { ExportResultCode } from "@opentelemetry/core";
import { describe, expect, it } from "vitest";
import { auditProcessors, DurableLogRecordProcessor } from "otel-auth-audit";
import { auditLog } from "otel-auth-audit/better-auth";
import { createAuthApp } from "../helpers/auth-app.js";
import { useCleanup } from "../helpers/cleanup.js";

const { cleanup, tempDir } = useCleanup();

/** A collector that is down. */
const down: LogRecordExporter = {
  export: (_records, done) => done({ code: ExportResultCode.FAILED, error: new Error("collector down") }),
  shutdown: async () => undefined,
  forceFlush: async () => undefined,
};

describe("nonBlocking with overflow: reject, collector down", () => {
  it("never crashes the process: every sign-in is answered, refusals are counted", async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => void uncaught.push(error);
    process.on("uncaughtException", onUncaught);
    process.on("unhandledRejection", onUncaught);
    cleanup.push(() => {
      process.off("uncaughtException", onUncaught);
      process.off("unhandledRejection", onUncaught);
    });
    const processors = auditProcessors({
      exporter: down,
      integrity: false,
      durable: { directory: tempDir(), overflow: "reject", maxBytes: 16 * 1024, retryInitialDelayMillis: 10_000, flushTimeoutMillis: 10, shutdownTimeoutMillis: 100 },
    });
    const provider = new LoggerProvider({ processors });
    cleanup.push(() => provider.shutdown());
    const durable = processors.find((p): p is DurableLogRecordProcessor => p instanceof DurableLogRecordProcessor)!;
    const app = await createAuthApp({ plugins: [auditLog({ loggerProvider: provider, nonBlocking: true })] });
    const statuses = new Set<number>();
    for (let i = 0; i < 50; i++) {
      const r = await app.post("/sign-in/email", { email: `nobody${i}@example.com`, password: "wrong-password-123" });
      statuses.add(r.status);
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(uncaught).toEqual([]);
    expect([...statuses]).toEqual([401]);
    const health = durable.health();
    expect(health.totals.dropped).toBeGreaterThan(0);
    expect(health.totals.spooled + health.totals.dropped).toBe(50);
  }, 60_000);
});
