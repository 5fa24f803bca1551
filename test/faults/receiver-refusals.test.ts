import { OTLPLogExporter } from "@opentelemetry/exporter-logs-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { ExportResultCode } from "@opentelemetry/core";
import { LoggerProvider, type LogRecordExporter } from "@opentelemetry/sdk-logs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { AuditLogger, DurableLogRecordProcessor } from "otel-auth-audit";
import { readOtlpJson } from "otel-auth-audit/verify";
import { useCleanup } from "../helpers/cleanup.js";
import type { OtlpReceiver } from "../helpers/otlp-receiver.js";

// A refusal of the request (wrong content type, wrong method) is not a refusal of the records:
// dead-lettering the whole trail for a misconfiguration would take every record off the wire.
// A receiver whose size limit every full batch exceeds (413) gets smaller requests, and every record.

const { cleanup, tempDir, receiver } = useCleanup();

function pipeline(rx: OtlpReceiver, batchSize = 512) {
  const processor = new DurableLogRecordProcessor({
    exporter: new OTLPLogExporter({ url: rx.url, timeoutMillis: 2000 }),
    directory: tempDir(),
    retryInitialDelayMillis: 20,
    retryMaxDelayMillis: 200,
    scheduledDelayMillis: 5,
    batchSize,
  });
  const provider = new LoggerProvider({ resource: resourceFromAttributes({ "service.name": "refusals" }), processors: [processor] });
  cleanup.push(() => provider.shutdown());
  return { processor, audit: new AuditLogger({ loggerProvider: provider }) };
}

describe("refusals by the receiver", () => {
  it("405, 406, 411, 415 refuse the request, not the records: retried, nothing dead-lettered, all delivered", async () => {
    for (const status of [405, 406, 411, 415]) {
      const rx = await receiver();
      const t0 = Date.now();
      rx.reply = () => (Date.now() - t0 < 400 ? { status } : {}); // misconfigured for a while, then fixed
      const { processor, audit } = pipeline(rx);
      const ids = Array.from({ length: 5 }, (_, i) => `r${status}-${i}`);
      for (const id of ids) void audit.record({ id, action: "sign-out", outcome: "success", userId: "u" });
      await processor.forceFlush({ timeoutMillis: 5000 });
      expect(await rx.waitFor(ids, 3000), String(status)).toBe(true);
      expect(processor.health().totals.deadLettered, String(status)).toBe(0);
    }
  });

  it("413 for every request of more than 8 records: batches are split, every record arrives, none is dead-lettered", async () => {
    const ids = new Set<string>();
    const sizes: number[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const records = readOtlpJson(Buffer.concat(chunks).toString("utf8"));
        sizes.push(records.length);
        if (records.length > 8) return void res.writeHead(413).end();
        for (const r of records) ids.add(String(r.attributes?.find((kv) => kv.key === "audit.id")?.value?.stringValue));
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanup.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/logs`;
    const { processor, audit } = pipeline({ url } as OtlpReceiver, 50);
    const sent = Array.from({ length: 120 }, (_, i) => `big-${i}`);
    for (const id of sent) void audit.record({ id, action: "sign-out", outcome: "success", userId: "u" });
    await processor.forceFlush({ timeoutMillis: 10_000 });
    expect([...ids].sort()).toEqual(sent.slice().sort());
    expect(processor.health().totals.deadLettered).toBe(0);
    expect(Math.max(...sizes)).toBeGreaterThan(8); // the receiver did refuse full batches
  });

  it("OTLP/gRPC: INVALID_ARGUMENT isolates a poison record, a message over the size limit is split, UNAVAILABLE is retried", async () => {
    const delivered = new Set<string>();
    let unavailable = 2;
    const grpcError = (code: number, details = "refused") => Object.assign(new Error(`${code} grpc`), { code, details, metadata: {} });
    const exporter: LogRecordExporter = {
      export: (batch, done) => {
        if (unavailable-- > 0) return done({ code: ExportResultCode.FAILED, error: grpcError(14) });
        if (batch.some((r) => r.attributes["audit.id"] === "g-poison")) return done({ code: ExportResultCode.FAILED, error: grpcError(3) });
        // the receiver's size limit, as gRPC reports it, for any request of more than 4 records
        if (batch.length > 4) return done({ code: ExportResultCode.FAILED, error: grpcError(8, "grpc: received message larger than max (5242880 vs. 4194304)") });
        for (const r of batch) delivered.add(String(r.attributes["audit.id"]));
        done({ code: ExportResultCode.SUCCESS });
      },
      shutdown: async () => {},
      forceFlush: async () => {},
    };
    const processor = new DurableLogRecordProcessor({ exporter, directory: tempDir(), retryInitialDelayMillis: 20, retryMaxDelayMillis: 200, scheduledDelayMillis: 5 });
    const provider = new LoggerProvider({ processors: [processor] });
    cleanup.push(() => provider.shutdown());
    const audit = new AuditLogger({ loggerProvider: provider });
    const ids = Array.from({ length: 20 }, (_, i) => (i === 7 ? "g-poison" : `g-${i}`));
    for (const id of ids) void audit.record({ id, action: "sign-out", outcome: "success", userId: "u" });
    await processor.forceFlush({ timeoutMillis: 5000 });
    expect([...delivered].filter((id) => id.startsWith("g-")).sort()).toEqual(ids.filter((id) => id !== "g-poison").sort());
    expect(processor.health().totals.deadLettered).toBe(1);
  });
});
