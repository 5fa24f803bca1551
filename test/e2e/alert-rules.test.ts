/**
 * collector/loki/rules/otel-auth-audit.yaml: every alert expression is valid LogQL for the real
 * Loki (an instant query answers 200), and the brute-force rule fires on a signal record.
 */
import { readFileSync } from "node:fs";
import { describe, expect, inject, it } from "vitest";
import { BruteForceDetector } from "otel-auth-audit";
import { createAuditedApp } from "./helpers/audited-app.js";
import { waitForEntries } from "./helpers/loki.js";
import { COLLECTOR_DIR, lokiUrl, otlpLogsUrl } from "./helpers/stack.js";

const stack = inject("stack");
const loki = lokiUrl(stack);
const rules = readFileSync(`${COLLECTOR_DIR}loki/rules/otel-auth-audit.yaml`, "utf8");

/** The `alert:` names and their `expr: |` blocks (the file's own layout; no YAML dependency). */
function alertRules(): Array<{ alert: string; expr: string }> {
  const out: Array<{ alert: string; expr: string }> = [];
  const blocks = rules.split(/\n\s*- alert: /).slice(1);
  for (const block of blocks) {
    const alert = block.split("\n")[0].trim();
    const match = /expr: \|\n((?:\s{10,}.*\n)+)/.exec(block);
    if (match) out.push({ alert, expr: match[1].replace(/\s+/g, " ").trim() });
  }
  return out;
}

async function instant(query: string) {
  const url = `${loki}/loki/api/v1/query?query=${encodeURIComponent(query)}&time=${Date.now() * 1e6}`;
  const response = await fetch(url);
  return { status: response.status, body: (await response.json().catch(() => ({}))) as { data?: { result?: unknown[] } } };
}

describe("Loki alert rules", () => {
  it("every rule's expression is accepted by Loki", async () => {
    const all = alertRules();
    expect(all.map((r) => r.alert)).toEqual(["AuthBruteForceSuspected", "AuthFailedSignInsFromOneIP", "AuthRateLimitedSignIns", "AuditSpoolOverflow"]);
    for (const rule of all) expect({ rule: rule.alert, status: (await instant(rule.expr)).status }).toEqual({ rule: rule.alert, status: 200 });
  });

  it("AuthBruteForceSuspected fires once a signal record is in Loki", async () => {
    const service = `e2e-alerts-${Date.now().toString(36)}`;
    const app = await createAuditedApp({ url: otlpLogsUrl(stack), serviceName: service });
    new BruteForceDetector({ accountIp: { max: 2, windowMs: 60_000 } }).attach(app.audit);
    // three failed attempts on one account from one IP (the detector against a real better-auth
    // is in test/brute-force.test.ts; here the signal's trip through the collector matters)
    for (let i = 0; i < 3; i++) {
      await app.audit.record({ action: "sign-in:email", outcome: "failure", userId: null, userHash: "acct-hash", ipAddress: "192.0.2.10", error: "INVALID_EMAIL_OR_PASSWORD" });
    }
    await app.finish();
    await waitForEntries(loki, `{audit_stream="audit", service_name="${service}"} | event_name="auth.brute_force.suspected"`, 1);
    const expr = alertRules()[0].expr.replace('{audit_stream="audit"}', `{audit_stream="audit", service_name="${service}"}`);
    const { body } = await instant(expr);
    expect(body.data?.result?.length).toBe(1);
    await app.shutdown();
  });
});
