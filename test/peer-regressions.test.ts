/**
 * better-auth-audit-logs 0.3.0's known faults, each as a test against the stored trail (what
 * `/audit-log/list` returns), so a user who switches does not get them back.
 */
import { describe, expect, it, beforeAll } from "vitest";
import { readFileSync } from "node:fs";
import type { BetterAuthPlugin } from "better-auth";
import * as betterAuthApi from "better-auth/api";
import { createAuthEndpoint } from "better-auth/api";
import * as z from "zod";
import { auditLog } from "otel-auth-audit/better-auth";
import { createStoreApp } from "./helpers/store-app.js";
import { acmeOAuth } from "./helpers/oauth.js";

const PASSWORD = "correct-horse-battery-1";
const WRONG = "wrong-password-canary-77";
const NESTED_SECRETS = ["p@ss-nested-1", "key-nested-123", "tok-nested-999", "otp-nested-42"];

/** An endpoint that takes any JSON body, so nested secrets reach the request-body capture. */
const profileImport = {
  id: "profile-import",
  endpoints: {
    importProfile: createAuthEndpoint("/profile/import", { method: "POST", body: z.record(z.string(), z.unknown()) }, async (ctx) => ctx.json({ ok: true })),
  },
} satisfies BetterAuthPlugin;

describe("better-auth-audit-logs faults, not reproduced", () => {
  const plugin = auditLog({ paths: [], capture: { requestBody: false }, insert: { maxMetadataBytes: 8192 } });
  const bodyPlugin = auditLog({ paths: ["/profile/import"], capture: { requestBody: true } });
  const makeApp = () =>
    createStoreApp("sqlite", {
      user: { deleteUser: { enabled: true } },
      plugins: [
        plugin,
        acmeOAuth(),
      ],
    });
  const makeBodyApp = () => createStoreApp("memory", { plugins: [bodyPlugin, profileImport] });
  let app: Awaited<ReturnType<typeof makeApp>>;
  let bodyApp: Awaited<ReturnType<typeof makeBodyApp>>;
  let user: { cookie: string; userId: string };

  const stored = async (action?: string) => {
    const page = await plugin.audit.list({ action, limit: 500 });
    return page.entries;
  };

  beforeAll(async () => {
    app = await makeApp();
    bodyApp = await makeBodyApp();
    const r = await app.post("/sign-up/email", { email: "peer@example.com", password: PASSWORD, name: "Peer" });
    user = { cookie: r.cookie!, userId: r.json.user.id };
  });

  it("loads on better-auth 1.7 (no getIp import) and records the client IP through getIP", async () => {
    const version = JSON.parse(readFileSync(new URL("../node_modules/better-auth/package.json", import.meta.url), "utf8")).version as string;
    expect(Number(version.split(".")[1])).toBeGreaterThanOrEqual(7);
    expect("getIp" in betterAuthApi).toBe(false);
    expect((await stored("sign-up:email"))[0]).toMatchObject({ userId: user.userId, ipAddress: "203.0.113.7" });
  });

  it("/delete-user with a wrong password is stored as failed, with its error code", async () => {
    const r = await app.post("/delete-user", { password: WRONG }, user.cookie);
    expect(r.status).toBe(400);
    const [entry] = await stored("delete-user");
    expect(entry).toMatchObject({ outcome: "failure", status: "failed", error: "INVALID_PASSWORD", userId: user.userId, severity: "high" });
  });

  it("a successful OAuth callback (302) is stored as success, with the provider", async () => {
    const start = await app.post("/sign-in/social", { provider: "acme", callbackURL: "/dashboard" });
    const state = new URL(start.json.url).searchParams.get("state");
    const callback = await app.get(`/callback/acme?code=abc&state=${state}`, start.cookie);
    expect(callback.status).toBe(302);
    const [entry] = await stored("callback:acme");
    expect(entry).toMatchObject({ outcome: "success", status: "success", statusCode: 302, metadata: { provider: "acme" } });
    expect(entry.userId).toEqual(expect.any(String));
  });

  it("the error code of a failure is kept", async () => {
    await app.post("/sign-in/email", { email: "peer@example.com", password: WRONG });
    const failed = (await stored("sign-in:email")).find((e) => e.outcome === "failure");
    expect(failed).toMatchObject({ error: "INVALID_EMAIL_OR_PASSWORD", userId: null, statusCode: 401 });
  });

  it("request-body capture removes credentials at every depth, not just the top level", async () => {
    const r = await bodyApp.post("/profile/import", {
      name: "Ada",
      password: "top-level-secret",
      profile: { password: NESTED_SECRETS[0], settings: { apiKey: NESTED_SECRETS[1], theme: "dark" } },
      items: [{ token: NESTED_SECRETS[2], label: "x" }],
      deep: { a: { b: { otp: NESTED_SECRETS[3], keep: 1 } } },
    });
    expect(r.status).toBe(200);
    const [entry] = (await bodyPlugin.audit.list({ action: "profile:import" })).entries;
    // beyond four levels the attribute flattening keeps a JSON string (src/attributes.ts)
    expect(entry.metadata).toMatchObject({ requestBody: { name: "Ada", profile: { settings: { theme: "dark" } }, deep: { a: { b: '{"keep":1}' } } } });
    const text = JSON.stringify(entry);
    for (const secret of [...NESTED_SECRETS, "top-level-secret"]) expect(text).not.toContain(secret);
  });

  it("a signed-in user cannot insert { action: 'admin:ban-user', severity: 'critical' }", async () => {
    const r = await app.post("/audit-log/insert", { action: "admin:ban-user", status: "success", severity: "critical" }, user.cookie);
    expect(r.status).toBe(403);
    expect(await stored("admin:ban-user")).toHaveLength(0);
  });

  it("userAgent is stored but not returned by the endpoints", async () => {
    const list = await app.get("/audit-log/list", user.cookie);
    expect(list.json.entries.length).toBeGreaterThan(0);
    for (const e of list.json.entries) expect(e).not.toHaveProperty("userAgent");
    const one = await app.get(`/audit-log/${list.json.entries[0].id}`, user.cookie);
    expect(one.json).not.toHaveProperty("userAgent");
    expect((await stored()).some((e) => e.userAgent === "otel-auth-audit-test/1.0")).toBe(true);
  });

  it("get-session (and the other reads) are not stored", async () => {
    await app.get("/get-session", user.cookie);
    await app.get("/list-sessions", user.cookie);
    await app.get("/audit-log/list", user.cookie);
    const actions = (await stored()).map((e) => e.action);
    expect(actions.filter((a) => /get-session|list-sessions|audit-log:list/.test(a))).toEqual([]);
  });

  // "retention never runs": see test/store.test.ts, "retention: an unref'd timer sweeps once per interval".
});
