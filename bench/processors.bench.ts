/**
 * Per-record cost of the audit pipeline on the emitting (request's) thread, against a bare
 * `logger.emit` of the same record through the same SDK, interleaved with a control pair
 * (bare measured twice) as in bench/lib.ts:
 *   emit.pipeline_vs_bare   AuditLogger.record → redaction → chain → durable spool (setupAudit's default)
 *   redaction.vs_bare, integrity.vs_bare   one processor in front of a Batch processor
 * Wall time is the emitting call until it returns (what the emitting request's code waits for
 * before it goes on); the chain and the spool write of a turn's records run once at the end of the
 * turn and are not in it. CPU and heap bytes count everything, that turn-end work and the export
 * each round leaves behind (forceFlush) included: `cpu_ratio` is the whole price per record.
 *   npm run bench -- processors
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordProcessor } from "@opentelemetry/sdk-logs";
import { IntegrityProcessor, RedactionProcessor, setupAudit } from "../src/index.js";
import { SCOPE_NAME, VERSION } from "../src/version.js";
import { interleave, pairedRatio, printTable, ratioFigure, round, statsTable, untilQuiet, writeFigures, type Figure } from "./lib.js";
import { NoopExporter } from "./noop-exporter.js";

const spool = mkdtempSync(join(tmpdir(), "otel-auth-audit-bench-emit-"));
process.on("exit", () => rmSync(spool, { recursive: true, force: true }));

const batch = () => new BatchLogRecordProcessor({ exporter: new NoopExporter(), maxQueueSize: 100_000, maxExportBatchSize: 512 });
function provider(processors: LogRecordProcessor[]) {
  const p = new LoggerProvider({ processors: [...processors, batch()] });
  return { provider: p, logger: p.getLogger(SCOPE_NAME, VERSION) };
}

// the record the pipeline makes of a failed sign-in, built by hand for the bare variants
const ATTRIBUTES = {
  "audit.action": "sign-in:email",
  "audit.outcome": "failure",
  "audit.severity": "high",
  "client.address": "203.0.113.9",
  "user_agent.original": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36",
  "http.request.method": "POST",
  "url.path": "/sign-in/email",
  "http.response.status_code": 401,
  "error.type": "INVALID_EMAIL_OR_PASSWORD",
};
const bareRecord = () => ({
  eventName: "auth.sign_in.email",
  timestamp: new Date(),
  severityNumber: 13,
  severityText: "WARN",
  body: "sign-in:email failure: INVALID_EMAIL_OR_PASSWORD",
  attributes: { ...ATTRIBUTES, "audit.id": randomUUID() },
});
const attempt = {
  action: "sign-in:email",
  outcome: "failure",
  userId: null,
  ipAddress: "203.0.113.9",
  userAgent: ATTRIBUTES["user_agent.original"],
  method: "POST",
  path: "/sign-in/email",
  statusCode: 401,
  error: "INVALID_EMAIL_OR_PASSWORD",
} as const;

const bare = provider([]);
const bareControl = provider([]);
const redacted = provider([new RedactionProcessor()]);
const integrity = new IntegrityProcessor({ key: "bench-key-0123456789abcdef", checkpointIntervalMs: 0 });
const chained = provider([integrity]);
integrity.bind(chained.provider);
const audit = setupAudit({ serviceName: "bench", exporter: new NoopExporter(), global: false, integrity: { key: "bench-key", checkpointIntervalMs: 0 }, durable: { directory: spool } });

const emitBare = (p: ReturnType<typeof provider>) => ({
  run: (ops: number) => {
    for (let i = 0; i < ops; i++) p.logger.emit(bareRecord());
  },
  settle: () => p.provider.forceFlush(),
});

const r = await untilQuiet("emit per record", async () => {
  const stats = await interleave(
    {
      bare: emitBare(bare),
      bare_control: emitBare(bareControl),
      redaction: emitBare(redacted),
      integrity: emitBare(chained),
      pipeline: {
        run: (ops: number) => {
          for (let i = 0; i < ops; i++) void audit.audit.record(attempt);
        },
        settle: () => audit.provider.forceFlush(),
      },
    },
    { twins: ["bare", "bare_control"], rounds: Number(process.env.BENCH_ROUNDS ?? 64), ops: Number(process.env.EMIT_OPS ?? 4000), warmup: 4, warmOps: Number(process.env.EMIT_WARM_OPS ?? 400) },
  );
  // the twins ran back to back in every round: the median of their per-round ratios is the noise
  return { stats, control: pairedRatio(stats.bare_control.samples.wall, stats.bare.samples.wall).median };
});
console.log(`\nper record, µs — ${r.noiseOk ? "noise check held" : "VOID: noise check failed"} (attempts: ${r.attempts})`);
printTable(statsTable(r.stats, "bare"));

const s = r.stats;
const figures: Record<string, Figure> = {
  "emit.control_ratio": { ...ratioFigure(s.bare_control, s.bare, r.noiseOk, "ratio", true), value: round(r.control, 4), attempts: r.attempts },
  "emit.pipeline_vs_bare": ratioFigure(s.pipeline, s.bare, r.noiseOk, "µs/record (synchronous emit)", true),
  "redaction.vs_bare": ratioFigure(s.redaction, s.bare, r.noiseOk, "µs/record (synchronous emit)", true),
  "integrity.vs_bare": ratioFigure(s.integrity, s.bare, r.noiseOk, "µs/record (synchronous emit)", true),
};
const f = figures["emit.pipeline_vs_bare"];
console.log(`emit.pipeline_vs_bare = ${f.ratio} (goal ≤ 2.0: ${!r.noiseOk ? "VOID" : f.ratio! <= 2 ? "met" : "not met"}); CPU incl. export: ${f.cpu_ratio}`);
writeFigures(figures);
await Promise.all([bare.provider.shutdown(), bareControl.provider.shutdown(), redacted.provider.shutdown(), chained.provider.shutdown(), audit.shutdown()]);
