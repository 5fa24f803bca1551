import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { InMemoryLogRecordExporter, LoggerProvider } from "@opentelemetry/sdk-logs";
import { describe, expect, it } from "vitest";
import { DurableLogRecordProcessor } from "otel-auth-audit";
import { verifyRecords } from "otel-auth-audit/verify";
import { useCleanup } from "../helpers/cleanup.js";

// The spool writes a turn's records together at the end of the turn. A process that ends inside
// that turn (process.exit, an uncaught exception) still writes them: an `exit` hook settles the turn.

const SCRIPT = fileURLToPath(new URL("../helpers/crash-after-emit.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const { cleanup, tempDir } = useCleanup();

describe("records emitted in the turn a process dies in", () => {
  for (const how of ["exit", "throw"] as const) {
    it(`are in the spool after ${how === "exit" ? "process.exit()" : "an uncaught exception"}, chained`, async () => {
      const directory = tempDir();
      const child = spawnSync(process.execPath, ["--import", "tsx", "--conditions=otel-auth-audit:source", SCRIPT, directory, "40", how], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
      expect(child.status).toBe(how === "exit" ? 3 : 1);
      const exporter = new InMemoryLogRecordExporter();
      const processor = new DurableLogRecordProcessor({ exporter, directory });
      const provider = new LoggerProvider({ processors: [processor] });
      cleanup.push(() => provider.shutdown());
      await processor.forceFlush();
      const records = exporter.getFinishedLogRecords().filter((r) => String(r.attributes["audit.id"]).startsWith("crash-"));
      expect(records.map((r) => r.attributes["audit.id"]).sort()).toEqual(Array.from({ length: 40 }, (_, i) => `crash-${i}`).sort());
      expect(verifyRecords(records, { key: "crash-key" }).ok).toBe(true);
    }, 90_000);
  }
});
