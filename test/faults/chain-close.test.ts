import { logs } from "@opentelemetry/api";
import { LoggerProvider, SimpleLogRecordProcessor, type ReadableLogRecord } from "@opentelemetry/sdk-logs";
import { NodeSDK } from "@opentelemetry/sdk-node";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { AuditLogger, auditProcessors, setupAudit } from "otel-auth-audit";
import { bindProcessors } from "../../src/pipeline.js";
import { verifyRecords } from "otel-auth-audit/verify";
import { captureExporter } from "../helpers/capture-exporter.js";

const KEY = "close-test-key";


const spool = () => ({ directory: mkdtempSync(join(tmpdir(), "oaa-close-")) });
const closed = (records: ReadableLogRecord[]) => verifyRecords(records, { key: KEY, requireClosed: true });

describe("chains close in the processors' own shutdown()", () => {
  it("NodeSDK with auditProcessors(), as the README sets it up: sdk.shutdown() closes the chain", async () => {
    const exporter = captureExporter();
    // no trace or metric exporters to a collector that is not there (they would slow shutdown)
    vi.stubEnv("OTEL_TRACES_EXPORTER", "none");
    vi.stubEnv("OTEL_METRICS_EXPORTER", "none");
    const sdk = new NodeSDK({
      serviceName: "close-test",
      logRecordProcessors: auditProcessors({ exporter, durable: spool(), integrity: { key: KEY, checkpointIntervalMs: 0 } }),
    });
    sdk.start();
    const audit = new AuditLogger();
    for (let i = 0; i < 5; i++) await audit.record({ action: "sign-in:email", outcome: "success", userId: `u${i}` });
    await sdk.shutdown();
    logs.disable(); // NodeSDK leaves its (shut down) provider registered as the global one
    vi.unstubAllEnvs();
    const result = closed(exporter.records);
    expect(result.problems).toEqual([]);
    expect(result.chains).toEqual([expect.objectContaining({ closed: true, size: 6 })]);
    expect(exporter.records.at(-1)?.attributes["audit.checkpoint.final"]).toBe(true);
  });

  it("NodeSDK with the audit processors in the app's one pipeline: the closing checkpoint reaches the app's own processor after them", async () => {
    const exporter = captureExporter();
    vi.stubEnv("OTEL_TRACES_EXPORTER", "none");
    vi.stubEnv("OTEL_METRICS_EXPORTER", "none");
    const sdk = new NodeSDK({
      logRecordProcessors: [...auditProcessors({ integrity: { key: KEY, checkpointIntervalMs: 0 } }), new SimpleLogRecordProcessor({ exporter })],
    });
    sdk.start();
    await new AuditLogger().record({ action: "admin:set-role", outcome: "success", userId: "u" });
    await sdk.shutdown();
    // the SDK's Simple processor exports once NodeSDK's resource has settled, after shutdown() resolved
    await new Promise((r) => setTimeout(r, 200));
    logs.disable(); // NodeSDK leaves its (shut down) provider registered as the global one
    vi.unstubAllEnvs();
    expect(closed(exporter.records).ok).toBe(true);
  });

  it("provider.shutdown() of a plain LoggerProvider closes it, with or without bind()", async () => {
    for (const bind of [true, false]) {
      const exporter = captureExporter();
      const processors = auditProcessors({ exporter, durable: spool(), integrity: { key: KEY, checkpointIntervalMs: 0 } });
      const provider = new LoggerProvider({ processors });
      if (bind) bindProcessors(processors, provider);
      const audit = new AuditLogger({ loggerProvider: provider });
      await audit.record({ action: "admin:ban-user", outcome: "success", userId: "u" });
      await provider.shutdown();
      expect(closed(exporter.records).ok).toBe(true);
    }
  });

  it("setupAudit().shutdown() closes it once; an empty chain adds no record", async () => {
    const exporter = captureExporter();
    const setup = setupAudit({ exporter, global: false, durable: spool(), integrity: { key: KEY, checkpointIntervalMs: 0 } });
    await setup.audit.record({ action: "sign-out", outcome: "success", userId: "u" });
    await setup.shutdown();
    expect(exporter.records.filter((r) => r.attributes["audit.checkpoint.final"] === true)).toHaveLength(1);
    expect(closed(exporter.records).ok).toBe(true);

    const idle = captureExporter();
    const quiet = setupAudit({ exporter: idle, global: false, durable: spool(), integrity: { key: KEY, checkpointIntervalMs: 0 } });
    await quiet.shutdown();
    expect(idle.records).toEqual([]);
  });
});
