/**
 * Loki stopped for 30 s while the app keeps emitting: the collector accepts everything into its
 * file_storage queue and delivers it once Loki is back. Every emitted audit.id ends up in Loki,
 * and the chain read back from Loki verifies.
 */
import { describe, expect, inject, it } from "vitest";
import { verifyRecords } from "otel-auth-audit/verify";
import { lokiSource } from "../../src/cli/sources.js";
import { countEntries, nowNanos } from "../../src/store/loki.js";
import { CHAIN_KEY, createAuditedApp } from "./helpers/audited-app.js";
import { lokiEntries } from "./helpers/loki.js";
import { lokiUrl, otlpLogsUrl, runScript, waitFor } from "./helpers/stack.js";

const stack = inject("stack");
const loki = lokiUrl(stack);
const OUTAGE_MS = Number(process.env.E2E_OUTAGE_SECONDS ?? 30) * 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("collector outage: Loki down, records keep coming", () => {
  it(`nothing is lost across a ${OUTAGE_MS / 1000} s Loki outage`, async () => {
    const service = `e2e-outage-${Date.now().toString(36)}`;
    const selector = `{audit_stream="audit", service_name="${service}"}`;
    const app = await createAuditedApp({ url: otlpLogsUrl(stack), serviceName: service });
    let n = 0;
    const emit = async (count: number, phase: string) => {
      for (let i = 0; i < count; i++) await app.audit.record({ action: "admin:user-export", outcome: "success", userId: `u-${n++}`, metadata: { phase } });
    };
    let restarted = false;
    let during = 0;
    try {
      await emit(20, "before");
      await app.provider.forceFlush();
      await runScript("stop.sh", ["loki"], stack);
      const down = Date.now();
      // ~20 records every 100 ms for the whole outage, each batch handed to the collector
      while (Date.now() - down < OUTAGE_MS) {
        await emit(20, "during");
        await sleep(100);
      }
      await app.provider.forceFlush();
      during = n - 20;
      await runScript("start.sh", ["loki"], stack);
      restarted = true;
      await emit(20, "after");
      await app.finish();
    } finally {
      if (!restarted) await runScript("start.sh", ["loki"], stack).catch(() => undefined);
    }
    const ids = new Set(app.emitted().map((r) => r.attributes["audit.id"]).filter(Boolean));
    expect(ids.size).toBe(n);
    const t0 = Date.now();
    // retries back off up to 30 s (otelcol.loki.yaml), so the queue may take that long to drain
    const entries = await waitFor("every record in Loki", async () => {
      const entries = await lokiEntries(loki, selector);
      return entries.length >= app.emitted().length ? entries : undefined;
    }, 120_000, 2000);
    console.log(`outage: ${n} records (${during} emitted while Loki was down for ${OUTAGE_MS / 1000} s) all in Loki ${((Date.now() - t0) / 1000).toFixed(1)} s after it was ready`);
    const inLoki = new Set(entries.map((e) => e.metadata.audit_id).filter(Boolean));
    expect(inLoki.size).toBe(ids.size);
    expect([...ids].filter((id) => !inLoki.has(id as string))).toEqual([]);
    // the same, in LogQL: distinct audit_id over the window
    const end = nowNanos() + 1n;
    const start = end - 3_600_000_000_000n;
    expect(await countEntries({ url: loki }, `${selector} | audit_id!=""`, start, end)).toBeGreaterThanOrEqual(ids.size);
    const result = verifyRecords(await lokiSource({ url: loki, query: selector, start, end }).read(), { key: CHAIN_KEY, requireClosed: true });
    expect(result.problems.filter((p) => p.level === "error")).toEqual([]);
    expect(result.ok).toBe(true);
    await app.shutdown();
  });
});
