/**
 * A small app process for the durable tests: emits audit records through setupAudit with a
 * DurableLogRecordProcessor in front of the OTLP/HTTP exporter.
 *
 *   <node> --import tsx test/helpers/durable-app.ts '<json config>'
 *
 * mode "stream": emits `rate` records/s for `durationMs` (forever when absent) and prints each
 *   record's id once `audit.record()` has resolved (the record is chained and in the spool), plus `rss <bytes>`
 *   lines; at the end prints `done <health json>` after flushing.
 * mode "drain": only starts (replaying the spool), flushes, prints `done <health json>`.
 */
import { OTLPLogExporter } from "@opentelemetry/exporter-logs-otlp-http";
import { DurableLogRecordProcessor, setupAudit } from "../../src/index.js";
import { type FsyncPolicy } from "../../src/durable/spool.js";

interface Config {
  mode: "stream" | "drain";
  directory: string;
  url: string;
  fsync?: FsyncPolicy;
  rate?: number;
  durationMs?: number;
  prefix?: string;
  printIds?: boolean;
  otlpTimeoutMs?: number;
  retryMaxDelayMillis?: number;
  flushTimeoutMillis?: number;
}

const config = JSON.parse(process.argv[2]) as Config;
const out = (line: string) => process.stdout.write(line + "\n"); // synchronous for pipes on Linux

const durable = new DurableLogRecordProcessor({
  exporter: new OTLPLogExporter({ url: config.url, timeoutMillis: config.otlpTimeoutMs ?? 2000 }),
  directory: config.directory,
  fsync: config.fsync ?? "interval",
  batchSize: 256,
  scheduledDelayMillis: 50,
  retryInitialDelayMillis: 100,
  retryMaxDelayMillis: config.retryMaxDelayMillis ?? 1000,
  flushTimeoutMillis: config.flushTimeoutMillis ?? 60_000,
});
const { audit, shutdown } = setupAudit({ processors: [durable], global: false, serviceName: "durable-app" });
out(`started ${process.pid} recovered ${durable.health().recoveredRecords}`);

async function finish(): Promise<void> {
  await durable.forceFlush();
  out(`done ${JSON.stringify(durable.health())}`);
  await shutdown();
  process.exit(0);
}

if (config.mode === "drain") {
  await finish();
} else {
  const rate = config.rate ?? 1000;
  const prefix = config.prefix ?? "rec";
  const tickMs = 10;
  const perTick = Math.max(1, Math.round((rate * tickMs) / 1000));
  const started = Date.now();
  let n = 0;
  const rssTimer = setInterval(() => out(`rss ${process.memoryUsage.rss()}`), 250);
  out(`rss ${process.memoryUsage.rss()}`);
  const tick = setInterval(() => {
    // Catch up on ticks the event loop could not run on time, so the rate holds.
    const due = Math.round(((Date.now() - started) * rate) / 1000);
    const count = Math.max(perTick, due - n);
    for (let i = 0; i < count; i++) {
      const id = `${prefix}-${n++}`;
      const recorded = audit.record({ id, action: "sign-in:email", outcome: "success", userId: `user-${n % 100}`, ipAddress: "203.0.113.7" });
      if (config.printIds !== false) void recorded.then(() => out(id));
    }
    if (config.durationMs !== undefined && Date.now() - started >= config.durationMs) {
      clearInterval(tick);
      clearInterval(rssTimer);
      out(`rss ${process.memoryUsage.rss()}`);
      out(`emitted ${n}`);
      void finish();
    }
  }, tickMs);
}
