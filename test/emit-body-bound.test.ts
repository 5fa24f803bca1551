import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from "@opentelemetry/sdk-logs";
import { describe, expect, it } from "vitest";
import { AuditLogger } from "otel-auth-audit";
import { rememberedBodies } from "../src/emit.js";

// Record bodies are made once per action, outcome and error code and kept in a table. Actions and
// error texts come from callers (an exception's message may carry ids; the insert endpoint takes
// them from clients): a stream of distinct ones must neither grow the table past its bound nor
// change a single body.
describe("the table of record bodies", () => {
  it("stays bounded under distinct actions and errors, keeps no long error text, and every body is still exact", async () => {
    const exporter = new InMemoryLogRecordExporter();
    const provider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter })] });
    const audit = new AuditLogger({ loggerProvider: provider });
    const expected: string[] = [];
    const record = async (action: string, error?: string) => {
      const outcome = error ? "failure" : "success";
      await audit.record({ action, outcome, error });
      expected.push(error ? `${action} ${outcome}: ${error}` : `${action} ${outcome}`);
    };
    // long error texts (messages with ids in them): made per record, never kept
    await record("custom:long-errors");
    const before = rememberedBodies();
    for (let i = 0; i < 300; i++) await record("custom:long-errors", `a long message ${"x".repeat(200)} ${i}`);
    expect(rememberedBodies()).toBe(before);
    // many short distinct error codes per action, over many actions
    for (let i = 0; i < 12_000; i++) await record(`custom:action-${i % 60}`, `E_${i}`);
    for (let i = 0; i < 3000; i++) await record(`custom:other-${i}`);
    expect(rememberedBodies()).toBeLessThanOrEqual(4096);
    expect(exporter.getFinishedLogRecords().map((r) => r.body)).toEqual(expected);
    await provider.shutdown();
  });
});
