
import { LoggerProvider, type ReadableLogRecord } from "@opentelemetry/sdk-logs";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AuditLogger, auditProcessors, setupAudit } from "otel-auth-audit";
import { verifyRecords } from "otel-auth-audit/verify";
import { captureExporter } from "../helpers/capture-exporter.js";

// Every way of stopping closes the chain, whatever carries the records (disk spool or the SDK's
// Batch processor): `verify --require-closed` passes on what was exported.

const KEY = "every-stop-key";
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const spool = () => {
  const directory = mkdtempSync(join(tmpdir(), "oaa-every-stop-"));
  dirs.push(directory);
  return { directory };
};


const integrity = { key: KEY, checkpointIntervalMs: 0, checkpointEvery: 3 };

async function emit(audit: AuditLogger, n = 7) {
  for (let i = 0; i < n; i++) await audit.record({ action: "sign-in:email", outcome: "success", userId: `u${i}` });
}

function expectClosed(records: ReadableLogRecord[], size: number) {
  const result = verifyRecords(records, { key: KEY, requireClosed: true });
  expect(result.problems.filter((p) => p.level === "error")).toEqual([]);
  expect(result.chains).toEqual([expect.objectContaining({ closed: true, size })]);
}

describe("the chain closes for every way of stopping", () => {
  for (const durable of [true, false] as const) {
    const how = durable ? "disk spool" : "Batch processor";
    it(`setupAudit().shutdown() (${how})`, async () => {
      const exporter = captureExporter();
      const setup = setupAudit({ exporter, global: false, durable: durable ? spool() : false, integrity });
      await emit(setup.audit);
      await setup.shutdown();
      expectClosed(exporter.records, 7 + 2 + 1); // 7 records, checkpoints after 3 and 6, the final one
    });

    it(`setupAudit().provider.shutdown() (${how})`, async () => {
      const exporter = captureExporter();
      const setup = setupAudit({ exporter, global: false, durable: durable ? spool() : false, integrity });
      await emit(setup.audit);
      await setup.provider.shutdown();
      expectClosed(exporter.records, 10);
    });

    it(`a LoggerProvider of auditProcessors(), provider.shutdown() (${how})`, async () => {
      const exporter = captureExporter();
      const provider = new LoggerProvider({ processors: auditProcessors({ exporter, durable: durable ? spool() : false, integrity }) });
      await emit(new AuditLogger({ loggerProvider: provider }));
      await provider.shutdown();
      expectClosed(exporter.records, 10);
    });
  }

  it("shutdown twice, and a shutdown after an explicit close(), add no second final checkpoint", async () => {
    const exporter = captureExporter();
    const setup = setupAudit({ exporter, global: false, durable: spool(), integrity });
    await emit(setup.audit, 2);
    await setup.shutdown();
    await setup.shutdown();
    await setup.provider.shutdown();
    expectClosed(exporter.records, 3);
  });
});
