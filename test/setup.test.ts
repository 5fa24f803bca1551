import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { flattenOtlp, verifyRecords } from "otel-auth-audit/verify";
import { setupAudit } from "otel-auth-audit";
import { attributesOf, startOtlpReceiver } from "./helpers/otlp-capture.js";

describe("setupAudit", () => {
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  beforeEach(async () => {
    receiver = await startOtlpReceiver();
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await receiver.close();
  });

  it("honours OTEL_EXPORTER_OTLP_ENDPOINT: the local receiver gets the records as OTLP JSON", async () => {
    vi.stubEnv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url);
    vi.stubEnv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json");
    const { audit, shutdown } = setupAudit({ serviceName: "shop", global: false, integrity: { key: "setup-test-key" } });
    await audit.record({ action: "sign-in:email", outcome: "failure", error: "INVALID_EMAIL_OR_PASSWORD", ipAddress: "203.0.113.1" });
    await audit.record({ action: "sign-out", outcome: "success", userId: "u-1" });
    await shutdown();

    expect(receiver.requests[0].path).toBe("/v1/logs");
    // redaction and the hash chain are on by default: shutdown closes the chain with a checkpoint
    const exported = flattenOtlp(receiver.requests.map((r) => r.body));
    expect(verifyRecords(exported, { key: "setup-test-key", requireClosed: true }).ok).toBe(true);
    const records = receiver.records().filter((r) => r.eventName !== "audit.checkpoint");
    expect(records.map((r) => r.eventName)).toEqual(["auth.sign_in.email", "auth.sign_out"]);
    expect(records[0].scope).toBe("otel-auth-audit");
    expect(records[0].severityNumber).toBe(13);
    expect(attributesOf(records[0])).toMatchObject({ "audit.outcome": "failure", "error.type": "INVALID_EMAIL_OR_PASSWORD", "client.address": "203.0.113.1" });
    expect(attributesOf(records[1])).toMatchObject({ "user.id": "u-1", "audit.severity": "medium" });
    const resource = JSON.stringify(records[0].resource);
    expect(resource).toContain("service.name");
    expect(resource).toContain("shop");
  });

  it("takes an explicit exporter instead of OTLP", async () => {
    const { InMemoryLogRecordExporter } = await import("@opentelemetry/sdk-logs");
    const exporter = new InMemoryLogRecordExporter();
    const { audit, provider, shutdown } = setupAudit({ serviceName: "shop", exporter, global: false });
    await audit.record({ action: "admin:user-export", outcome: "success" });
    await provider.forceFlush();
    expect(exporter.getFinishedLogRecords().map((r) => r.eventName)).toEqual(["auth.admin.user_export"]);
    await shutdown();
  });
});

describe("auditProcessors", () => {
  it("orders redaction, the hash chain, then the durable spool in front of the exporter", async () => {
    const { auditProcessors, DurableLogRecordProcessor, IntegrityProcessor, RedactionProcessor } = await import("otel-auth-audit");
    const { InMemoryLogRecordExporter, BatchLogRecordProcessor } = await import("@opentelemetry/sdk-logs");
    const directory = (await import("node:fs")).mkdtempSync(`${(await import("node:os")).tmpdir()}/procs-`);
    const processors = auditProcessors({ exporter: new InMemoryLogRecordExporter(), durable: { directory }, integrity: { key: "k", checkpointIntervalMs: 0 } });
    expect(processors.map((p) => p.constructor)).toEqual([RedactionProcessor, IntegrityProcessor, DurableLogRecordProcessor]);
    expect(auditProcessors({ exporter: new InMemoryLogRecordExporter(), durable: false })[2]).toBeInstanceOf(BatchLogRecordProcessor);
    expect(auditProcessors({ redaction: false, integrity: false })).toEqual([]);
    await Promise.all(processors.map((p) => p.shutdown()));
  });
});
