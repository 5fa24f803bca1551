import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { BruteForceDetector, type AuditEvent, type BruteForceSignal } from "otel-auth-audit";
import { MemoryFailureCounter } from "../src/detect/memory-counter.js";
import { newEventId } from "../src/event.js";
import { auditHandler, auditLog } from "otel-auth-audit/better-auth";
import { createTestAudit } from "otel-auth-audit/testing";
import { createAuthApp, requester } from "./helpers/auth-app.js";

const fastPassword = { hash: async (p: string) => `plain:${p}`, verify: async ({ hash, password }: { hash: string; password: string }) => hash === `plain:${password}` };

async function stuffingTarget(clock: { now: number }) {
  const t = createTestAudit();
  const signals: BruteForceSignal[] = [];
  const app = await createAuthApp({
    emailAndPassword: { enabled: true, password: fastPassword },
    plugins: [auditLog({ loggerProvider: t.provider, bruteForce: { now: () => clock.now, onSuspected: (s) => void signals.push(s) } })],
  });
  const attempt = (email: string, ip: string) =>
    app.post("/sign-in/email", { email, password: "guess-123456" }, undefined, { "x-forwarded-for": ip });
  return { t, signals, app, attempt };
}

const suspected = (t: ReturnType<typeof createTestAudit>) => t.findAll({ eventName: "auth.brute_force.suspected" });

describe("brute-force signals against a real better-auth", () => {
  it("many emails from one IP: one `ip` signal, no account signals", async () => {
    const clock = { now: Date.now() };
    const { t, signals, attempt } = await stuffingTarget(clock);
    for (let i = 0; i < 150; i++) await attempt(`victim${i}@example.com`, "192.0.2.66");
    expect(signals.map((s) => s.kind)).toEqual(["ip"]);
    expect(signals[0]).toMatchObject({ ipAddress: "192.0.2.66", count: 101, windowMs: 86_400_000 });
    const [record] = suspected(t);
    expect(suspected(t)).toHaveLength(1);
    expect(record.severityNumber).toBe(17);
    expect(record.attributes).toMatchObject({
      "audit.action": "brute-force:suspected",
      "audit.severity": "critical",
      "client.address": "192.0.2.66",
      "audit.metadata.brute_force.kind": "ip",
      "audit.metadata.brute_force.count": 101,
      "audit.metadata.brute_force.window_seconds": 86_400,
    });
    expect(record.attributes["audit.metadata.brute_force.first_seen"]).toEqual(expect.any(String));
  });

  it("one email from many IPs: one `account` signal keyed by user.hash; the address never appears", async () => {
    const clock = { now: Date.now() };
    const { t, signals, attempt } = await stuffingTarget(clock);
    for (let i = 0; i < 30; i++) await attempt("ceo@example.com", `198.51.100.${i + 1}`);
    expect(signals.map((s) => s.kind)).toEqual(["account"]);
    expect(signals[0].count).toBe(21);
    const [record] = suspected(t);
    const failures = t.findAll({ action: "sign-in:email", outcome: "failure" });
    expect(record.attributes["user.hash"]).toBe(failures[0].attributes["user.hash"]);
    expect(new Set(failures.map((r) => r.attributes["user.hash"])).size).toBe(1);
    expect(JSON.stringify(t.records().map((r) => r.attributes))).not.toContain("ceo@example.com");
  });

  it("one account from one IP: one `account_ip` signal at the 11th failure, none after it in the window", async () => {
    const clock = { now: Date.now() };
    const { signals, attempt } = await stuffingTarget(clock);
    for (let i = 0; i < 10; i++) await attempt("ada@example.com", "203.0.113.50");
    expect(signals).toHaveLength(0);
    await attempt("ada@example.com", "203.0.113.50");
    expect(signals.map((s) => [s.kind, s.count])).toEqual([["account_ip", 11]]);
    for (let i = 0; i < 5; i++) await attempt("ada@example.com", "203.0.113.50");
    expect(signals).toHaveLength(1);
    // the windows clear; a new burst is a new signal
    clock.now += 61 * 60_000;
    for (let i = 0; i < 11; i++) await attempt("ada@example.com", "203.0.113.50");
    expect(signals.map((s) => s.kind)).toEqual(["account_ip", "account_ip"]);
  });

  it("slow and low, under every threshold: no signal", async () => {
    const clock = { now: Date.now() };
    const { signals, attempt } = await stuffingTarget(clock);
    for (let hour = 0; hour < 12; hour++) {
      for (let i = 0; i < 8; i++) await attempt("slow@example.com", "203.0.113.77");
      clock.now += 61 * 60_000; // the account window (1 h) and the pair window (15 min) clear between bursts
    }
    expect(signals).toHaveLength(0);
  });

  it("throttled requests (429) are audited as RATE_LIMITED failures and counted", async () => {
    const t = createTestAudit();
    const app = await createAuthApp({
      emailAndPassword: { enabled: true, password: fastPassword },
      rateLimit: { enabled: true, window: 60, max: 100, storage: "memory" },
      plugins: [auditLog({ loggerProvider: t.provider })],
    });
    const client = requester(auditHandler(app.auth));
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await client.post("/sign-in/email", { email: "throttled@example.com", password: "guess-123456" }, undefined, { "x-forwarded-for": "192.0.2.99" })).status);
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    const throttled = t.findAll({ error: "RATE_LIMITED" });
    expect(throttled).toHaveLength(2);
    expect(throttled[0].attributes).toMatchObject({
      "audit.action": "sign-in:email",
      "audit.outcome": "failure",
      "audit.severity": "high",
      "http.response.status_code": 429,
      "client.address": "192.0.2.99",
    });
    expect(throttled[0].attributes["user.hash"]).toBe(t.find({ error: "INVALID_EMAIL_OR_PASSWORD" })?.attributes["user.hash"]);
  });
});

const failedSignIn = (ip: string, userHash: string): AuditEvent => ({
  action: "sign-in:email",
  outcome: "failure",
  severity: "high",
  userId: null,
  userHash,
  ipAddress: ip,
  time: new Date(),
  id: newEventId(),
});

describe("BruteForceDetector", () => {
  it("stays bounded with 1,000,000 distinct keys", () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const detector = new BruteForceDetector({ maxKeys: 50_000 });
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 1_000_000; i++) detector.observe(failedSignIn(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, `h${i}`));
    gc();
    const retained = process.memoryUsage().heapUsed - before;
    const tracked = detector.trackedKeys();
    expect(tracked).toEqual({ account: 50_000, ip: 50_000, account_ip: 50_000 });
    // 150,000 windows of a few dozen bytes each; 1,000,000 keys kept would be ~10x this
    expect(retained).toBeLessThan(64 * 1024 * 1024);
  });

  it("instances sharing a counter raise one signal between them", async () => {
    const shared = new MemoryFailureCounter();
    const a = new BruteForceDetector({ ip: false, account: false });
    const b = new BruteForceDetector({ ip: false, account: false });
    const raised: BruteForceSignal[] = [];
    for (let i = 0; i < 30; i++) raised.push(...(await (i % 2 ? a : b).observeShared(failedSignIn("203.0.113.1", "acct"), shared)));
    expect(raised.map((s) => [s.kind, s.count])).toEqual([["account_ip", 11]]);
  });

  it("ignores successes and non-sign-in failures", () => {
    const detector = new BruteForceDetector({ accountIp: { max: 0, windowMs: 1000 } });
    expect(detector.observe({ ...failedSignIn("1.2.3.4", "x"), outcome: "success" })).toEqual([]);
    expect(detector.observe({ ...failedSignIn("1.2.3.4", "x"), action: "change-password" })).toEqual([]);
    expect(detector.observe(failedSignIn("1.2.3.4", "x")).map((s) => s.kind)).toEqual(["account_ip"]);
  });
});
