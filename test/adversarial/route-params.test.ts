/**
 * A live reset token in the trail (issue #12): route parameters are values an attacker may not
 * see. Every better-auth route with a `:param` is called with a canary in it; the canary must be
 * nowhere in what is exported or stored, and the record carries the route template instead
 * (`audit.action` `reset-password`, `http.route` `/reset-password/:token`). Only a provider id the
 * app knows is filled in (`callback:acme`).
 */
import { oAuthProxy } from "better-auth/plugins/oauth-proxy";
import { describe, expect, it } from "vitest";
import { auditHandler, auditLog } from "otel-auth-audit/better-auth";
import { createTestAudit } from "otel-auth-audit/testing";
import { createAuthApp, requester } from "../helpers/auth-app.js";
import { acmeOAuth } from "../helpers/oauth.js";
import { BACKENDS, createStoreApp } from "../helpers/store-app.js";
import { JsonLogsSerializer } from "@opentelemetry/otlp-transformer";

const CANARY = "CanaryRouteParam0123456789abcdefXYZ";

interface EndpointLike {
  path?: string;
  options?: { method?: string | string[] };
}

async function app(backend: (typeof BACKENDS)[number]) {
  const t = createTestAudit();
  const outbox: { token?: string } = {};
  const plugin = auditLog({ loggerProvider: t.provider });
  const a = await createStoreApp(backend, {
    emailAndPassword: { enabled: true, sendResetPassword: async ({ token }) => void (outbox.token = token) },
    plugins: [plugin, acmeOAuth(), oAuthProxy()],
  });
  const exported = () => new TextDecoder().decode(JsonLogsSerializer.serializeRequest(t.records()));
  const stored = async () => {
    await plugin.audit.flush();
    if (a.database) return JSON.stringify(a.database.prepare("SELECT * FROM auditLog").all());
    return JSON.stringify((a as { memory?: Record<string, unknown[]> }).memory?.auditLog ?? []);
  };
  return { t, outbox, plugin, exported, stored, ...a };
}

describe.each(BACKENDS)("route parameters on %s", (backend) => {
  it("the reset link: the live token is nowhere, the record says reset-password and its template; the token still works", async () => {
    const a = await app(backend);
    await a.post("/sign-up/email", { email: "reset@example.com", password: "correct-horse-battery-1", name: "R" });
    await a.post("/request-password-reset", { email: "reset@example.com", redirectTo: "/reset" });
    const token = a.outbox.token!;
    expect(token).toBeTruthy();
    a.t.reset();
    const click = await a.get(`/reset-password/${token}?callbackURL=${encodeURIComponent("/reset")}`);
    expect(click.status).toBeLessThan(500);
    const record = a.t.records().find((r) => r.attributes["http.route"] === "/reset-password/:token");
    expect(record?.attributes).toMatchObject({ "audit.action": "reset-password", "url.path": "/reset-password/:token", "http.request.method": "GET" });
    expect(record?.eventName).toBe("auth.reset_password");
    expect(a.exported()).not.toContain(token);
    expect(await a.stored()).not.toContain(token);
    // the token was only looked at: the reset itself still works with it
    expect((await a.post("/reset-password", { newPassword: "reset-password-99", token })).status).toBe(200);
    expect(a.exported()).not.toContain(token);
    expect(await a.stored()).not.toContain(token);
  });

  it("every route with a parameter, called with a canary in it, records the template only", async () => {
    const a = await app(backend);
    const withParams = Object.values(a.auth.api as Record<string, EndpointLike>).filter((e) => typeof e.path === "string" && e.path.includes(":"));
    expect(withParams.map((e) => e.path).sort()).toEqual(expect.arrayContaining(["/callback/:id", "/callback/:id/oauth-proxy", "/reset-password/:token"]));
    for (const endpoint of withParams) {
      const concrete = endpoint.path!.replace(/:[A-Za-z0-9_]+/g, CANARY);
      const methods = [endpoint.options?.method].flat().filter((m): m is string => typeof m === "string" && m !== "*");
      for (const method of methods.length ? methods : ["GET"]) {
        const r = method === "GET" ? await a.get(`${concrete}?code=${CANARY}&state=${CANARY}&callbackURL=/x`) : await a.post(concrete, { token: CANARY, code: CANARY });
        expect(r.status, `${method} ${endpoint.path}`).toBeLessThan(500);
      }
    }
    const routes = a.t.records().map((r) => r.attributes["http.route"]);
    expect(routes).toEqual(expect.arrayContaining(["/reset-password/:token", "/callback/:id"]));
    for (const r of a.t.records()) {
      expect(String(r.attributes["audit.action"])).not.toContain(CANARY);
      expect(String(r.attributes["url.path"])).not.toContain(CANARY);
    }
    expect(a.exported()).not.toContain(CANARY);
    expect(await a.stored()).not.toContain(CANARY);
    // an unknown provider id is what a caller typed: the template, not the value
    expect(a.t.find({ "http.route": "/callback/:id" })?.attributes).toMatchObject({ "audit.action": "callback", "url.path": "/callback/:id" });
  });

  it("a provider the app knows is filled in: callback:acme", async () => {
    const a = await app(backend);
    await a.get(`/callback/acme?code=${CANARY}&state=${CANARY}`);
    expect(a.t.find({ "http.route": "/callback/:id" })?.attributes).toMatchObject({ "audit.action": "callback:acme", "url.path": "/callback/acme" });
    expect(a.exported()).not.toContain(CANARY);
  });
});

it("auditHandler: a throttled reset link is recorded under its template, never its token", async () => {
  const t = createTestAudit();
  const a = await createAuthApp({
    plugins: [auditLog({ loggerProvider: t.provider, store: false })],
    rateLimit: { enabled: true, window: 60, max: 1000, customRules: { "/reset-password/*": { window: 60, max: 1 } } },
  });
  const send = requester(auditHandler(a.auth as never));
  let throttled = 0;
  for (let i = 0; i < 4; i++) if ((await send.get(`/reset-password/${CANARY}?callbackURL=/x&n=${i}`)).status === 429) throttled++;
  expect(throttled).toBeGreaterThan(0);
  const limited = t.records().filter((r) => r.attributes["error.type"] === "RATE_LIMITED");
  expect(limited.length).toBe(throttled);
  expect(limited[0]?.attributes).toMatchObject({ "audit.action": "reset-password", "url.path": "/reset-password/:token", "http.route": "/reset-password/:token" });
  expect(new TextDecoder().decode(JsonLogsSerializer.serializeRequest(t.records()))).not.toContain(CANARY);
});
