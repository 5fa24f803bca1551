/**
 * Emits records without awaiting them and then dies in the same task, before the turn in which the
 * spool would write them: by `process.exit()` or by an uncaught exception.
 *
 *   <node> --import tsx test/helpers/crash-after-emit.ts <spool dir> <count> exit|throw
 */
import { setupAudit } from "../../src/index.js";
import { ExportResultCode } from "@opentelemetry/core";

const [directory, count, how] = process.argv.slice(2);
const down = { export: (_: unknown, done: (r: { code: number }) => void) => done({ code: ExportResultCode.FAILED }), shutdown: async () => {}, forceFlush: async () => {} };
const { audit } = setupAudit({ exporter: down, global: false, durable: { directory }, integrity: { key: "crash-key" } });
for (let i = 0; i < Number(count); i++) void audit.record({ id: `crash-${i}`, action: "sign-in:email", outcome: "success", userId: "u" });
if (how === "exit") process.exit(3);
throw new Error("the app crashed right after emitting");
