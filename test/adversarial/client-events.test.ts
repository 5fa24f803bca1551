/**
 * The privileged-insert check is spelling-sensitive (issue #12): generated spellings of server-only
 * actions (case, separators, fullwidth forms, whitespace) are refused from a plain user, and any
 * client-reported event lives under `auth.client.*` with `audit.origin = client`, never feeds the
 * brute-force detector, and is excluded by every shipped Loki alert rule.
 */
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BruteForceDetector } from "otel-auth-audit";
import { isServerOnlyAction, normalizeAction } from "../../src/action-names.js";
import { adversarialApp } from "./harness.js";

const SERVER_ONLY = ["admin:ban-user", "admin:impersonate-user", "admin:set-role", "brute-force:suspected", "rate-limited", "audit:spool-overflow", "audit-log:insert"];
const SEPARATORS = [":", "/", ".", "_", "-", " ", "::", "\t", "／", "：", "．", "＿", "－"];

/** A spelling of `action` a reader would take for the same thing. */
const spelling = (action: string) =>
  fc.tuple(fc.array(fc.boolean(), { minLength: action.length, maxLength: action.length }), fc.constantFrom(...SEPARATORS), fc.boolean(), fc.boolean()).map(([upper, sep, fullwidth, pad]) => {
    let s = [...action].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join("").replace(/[:\-/]/g, sep);
    if (fullwidth) s = [...s].map((c) => (/[A-Za-z0-9]/.test(c) ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c)).join("");
    return pad ? ` ${s} ` : s;
  });

describe("action names", () => {
  it("every spelling of a server-only action normalises to it and is server-only", () => {
    fc.assert(
      fc.property(fc.constantFrom(...SERVER_ONLY).chain((a) => spelling(a).map((s) => [a, s] as const)), ([action, s]) => {
        expect(normalizeAction(s).replace(/:/g, "")).toBe(normalizeAction(action).replace(/:/g, ""));
        expect(isServerOnlyAction(s)).toBe(true);
      }),
      { numRuns: 500 },
    );
    for (const ok of ["profile:updated", "user:export-requested", "sign-in:email", "settings/theme"]) expect(isServerOnlyAction(ok)).toBe(false);
  });
});

describe("through POST /audit-log/insert", () => {
  it("a plain user's spelling of a server-only action is refused (403) or malformed (400), never recorded as asked", async () => {
    const app = await adversarialApp("memory");
    const mallory = await app.signUp("mallory@example.com");
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...SERVER_ONLY).chain(spelling), async (action) => {
        const r = await app.post("/audit-log/insert", { action, status: "success" }, mallory.cookie);
        expect([400, 403], `${JSON.stringify(action)} → ${r.status}`).toContain(r.status);
        seen.add(action);
      }),
      { numRuns: 60 },
    );
    // nothing the user sent reached the trail as a server event
    for (const r of app.t.records()) {
      if (r.attributes["audit.origin"] !== "client") expect(["auth.audit_log.insert", "auth.sign_up.email"]).toContain(r.eventName);
    }
    expect(app.t.records().some((r) => r.eventName === "auth.brute_force.suspected" || String(r.eventName).startsWith("auth.admin."))).toBe(false);
  }, 30_000);

  it("an allowed client event is auth.client.*, origin client, and feeds no detector", async () => {
    const app = await adversarialApp("memory", { bruteForce: { accountIp: { max: 1, windowMs: 60_000 }, ip: { max: 1, windowMs: 60_000 }, account: { max: 1, windowMs: 60_000 } } });
    const mallory = await app.signUp("mallory@example.com");
    for (const action of ["sign-in:email", "two-factor:verify", "callback:acme", "Sign-In/Email"]) {
      for (let i = 0; i < 5; i++) {
        const r = await app.post("/audit-log/insert", { action, status: "failed", metadata: { email: "victim@example.com" } }, mallory.cookie);
        expect(r.status).toBe(200);
      }
    }
    const client = app.t.records().filter((r) => r.attributes["audit.origin"] === "client");
    expect(client.length).toBe(20);
    for (const r of client) expect(r.eventName).toMatch(/^auth\.client\./);
    // no Loki rule or dashboard query on auth.sign_in.* can see them, and no signal was raised
    expect(app.t.records().some((r) => r.eventName === "auth.brute_force.suspected")).toBe(false);
    expect(app.t.records().some((r) => /^auth\.sign_in\./.test(String(r.eventName)) && r.attributes["audit.origin"] === "client")).toBe(false);
  });

  it("the detector ignores client-origin events fed to it directly", () => {
    const detector = new BruteForceDetector({ accountIp: { max: 0, windowMs: 60_000 } });
    const event = { action: "sign-in:email", outcome: "failure" as const, severity: "high" as const, ipAddress: "203.0.113.1", userHash: "h", id: "1", time: new Date() };
    expect(detector.observe({ ...event, origin: "client" })).toEqual([]);
    expect(detector.observe(event).length).toBeGreaterThan(0);
  });

  it("every shipped Loki alert rule requires a server-origin record", () => {
    const rules = readFileSync(new URL("../../collector/loki/rules/otel-auth-audit.yaml", import.meta.url), "utf8");
    const exprs = rules.split(/\n\s*- alert: /).slice(1);
    expect(exprs.length).toBeGreaterThan(0);
    for (const block of exprs) expect(block, block.split("\n")[0]).toContain('audit_origin!="client"');
  });
});
