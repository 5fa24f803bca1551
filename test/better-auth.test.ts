import { describe, expect, it, beforeAll } from "vitest";
import { admin, twoFactor } from "better-auth/plugins";
import { auditLog } from "otel-auth-audit/better-auth";
import { createTestAudit, type TestAudit } from "otel-auth-audit/testing";
import { CLIENT_IP, USER_AGENT, createAuthApp, type Outbox } from "./helpers/auth-app.js";
import { acmeOAuth } from "./helpers/oauth.js";

const PASSWORD = "correct-horse-battery-1";
const WRONG = "wrong-password-canary-77";

async function setup(pluginOptions: Parameters<typeof auditLog>[0] = {}) {
  const t = createTestAudit();
  const outbox: Outbox = {};
  const app = await createAuthApp({
    emailAndPassword: {
      enabled: true,
      sendResetPassword: async ({ token }) => {
        outbox.resetToken = token;
      },
    },
    user: { changeEmail: { enabled: true, updateEmailWithoutVerification: true }, deleteUser: { enabled: true } },
    plugins: [
      auditLog({ loggerProvider: t.provider, ...pluginOptions }),
      admin(),
      twoFactor({ skipVerificationOnEnable: true, otpOptions: { sendOTP: async ({ otp }) => void (outbox.otp = otp) } }),
      acmeOAuth(),
    ],
  });
  return { t, outbox, ...app };
}

async function signUp(app: Awaited<ReturnType<typeof setup>>, email = "ada@example.com") {
  const r = await app.post("/sign-up/email", { email, password: PASSWORD, name: "Ada" });
  expect(r.status).toBe(200);
  return { cookie: r.cookie!, userId: r.json.user.id as string };
}

/** Every serialised record, for scanning for secrets. */
const serialised = (t: TestAudit) => JSON.stringify(t.records().map((r) => ({ body: r.body, attributes: r.attributes, eventName: r.eventName })));

describe("better-auth plugin: the event table", () => {
  let app: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    app = await setup();
  });

  it("sign-up: one success record with user and session, IP and user agent", async () => {
    app.t.reset();
    const { userId } = await signUp(app, "signup@example.com");
    expect(app.t.records()).toHaveLength(1);
    const record = app.t.find({ action: "sign-up:email" })!;
    expect(record.eventName).toBe("auth.sign_up.email");
    expect(record.attributes).toMatchObject({
      "audit.outcome": "success",
      "audit.severity": "medium",
      "user.id": userId,
      "client.address": CLIENT_IP,
      "user_agent.original": USER_AGENT,
      "http.request.method": "POST",
      "url.path": "/sign-up/email",
      "http.response.status_code": 200,
    });
    expect(record.attributes["session.id"]).toEqual(expect.any(String));
    expect(record.severityNumber).toBe(10);
  });

  it("sign-in: success, then a failed attempt with the error code and no user; the password appears nowhere", async () => {
    const { userId } = await signUp(app, "signin@example.com");
    app.t.reset();
    const ok = await app.post("/sign-in/email", { email: "signin@example.com", password: PASSWORD });
    expect(ok.status).toBe(200);
    const bad = await app.post("/sign-in/email", { email: "signin@example.com", password: WRONG });
    expect(bad.status).toBe(401);
    const [success, failure] = app.t.records();
    expect(app.t.records()).toHaveLength(2);
    expect(success.attributes).toMatchObject({ "audit.action": "sign-in:email", "audit.outcome": "success", "user.id": userId, "audit.severity": "medium" });
    expect(success.attributes["session.id"]).toEqual(expect.any(String));
    expect(failure.eventName).toBe("auth.sign_in.email");
    expect(failure.attributes).toMatchObject({
      "audit.action": "sign-in:email",
      "audit.outcome": "failure",
      "audit.severity": "high",
      "error.type": "INVALID_EMAIL_OR_PASSWORD",
      "http.response.status_code": 401,
    });
    expect(failure.attributes["user.id"]).toBeUndefined();
    expect(failure.severityNumber).toBe(13);
    expect(serialised(app.t)).not.toContain(WRONG);
    expect(serialised(app.t)).not.toContain(PASSWORD);
  });

  it("change-password: success and failure carry the user", async () => {
    const { cookie, userId } = await signUp(app, "changepw@example.com");
    app.t.reset();
    await app.post("/change-password", { currentPassword: PASSWORD, newPassword: "another-password-2" }, cookie);
    await app.post("/change-password", { currentPassword: WRONG, newPassword: "another-password-3" }, cookie);
    expect(app.t.records().map((r) => [r.attributes["audit.action"], r.attributes["audit.outcome"], r.attributes["user.id"]])).toEqual([
      ["change-password", "success", userId],
      ["change-password", "failure", userId],
    ]);
    expect(app.t.records()[1].attributes["error.type"]).toBe("INVALID_PASSWORD");
    expect(serialised(app.t)).not.toContain(WRONG);
  });

  it("reset-password: request and reset, the reset carries the user", async () => {
    const { userId } = await signUp(app, "reset@example.com");
    app.t.reset();
    await app.post("/request-password-reset", { email: "reset@example.com", redirectTo: "/reset" });
    const reset = await app.post("/reset-password", { newPassword: "reset-password-99", token: app.outbox.resetToken });
    expect(reset.status).toBe(200);
    expect(app.t.find({ action: "request-password-reset" })?.attributes["audit.outcome"]).toBe("success");
    expect(app.t.find({ action: "reset-password" })?.attributes).toMatchObject({ "audit.outcome": "success", "user.id": userId });
    expect(serialised(app.t)).not.toContain(app.outbox.resetToken!);
  });

  it("change-email", async () => {
    const { cookie, userId } = await signUp(app, "old@example.com");
    app.t.reset();
    const r = await app.post("/change-email", { newEmail: "new@example.com" }, cookie);
    expect(r.status).toBe(200);
    expect(app.t.find({ action: "change-email" })?.attributes).toMatchObject({ "audit.outcome": "success", "user.id": userId });
  });

  it("two-factor: enable, sign-in with a second factor, a wrong code and a right one", async () => {
    const { cookie, userId } = await signUp(app, "twofa@example.com");
    await app.post("/two-factor/enable", { password: PASSWORD }, cookie);
    expect(app.t.find({ action: "two-factor:enable" })?.attributes).toMatchObject({ "audit.outcome": "success", "user.id": userId });
    app.t.reset();
    const first = await app.post("/sign-in/email", { email: "twofa@example.com", password: PASSWORD });
    expect(first.json.twoFactorRedirect).toBe(true);
    await app.post("/two-factor/send-otp", {}, first.cookie);
    const wrong = await app.post("/two-factor/verify-otp", { code: "000000" === app.outbox.otp ? "111111" : "000000" }, first.cookie);
    expect(wrong.status).toBeGreaterThanOrEqual(400);
    const right = await app.post("/two-factor/verify-otp", { code: app.outbox.otp }, first.cookie);
    expect(right.status).toBe(200);
    const verify = app.t.findAll({ action: "two-factor:verify-otp" });
    expect(verify.map((r) => r.attributes["audit.outcome"])).toEqual(["failure", "success"]);
    expect(verify[0].attributes["audit.severity"]).toBe("high");
    expect(verify[1].attributes["user.id"]).toBe(userId);
    expect(serialised(app.t)).not.toContain(`"${app.outbox.otp}"`);
  });

  it("OAuth: sign-in start and a successful callback (a 302) are successes with the provider", async () => {
    app.t.reset();
    const start = await app.post("/sign-in/social", { provider: "acme", callbackURL: "/dashboard" });
    expect(start.status).toBe(200);
    const state = new URL(start.json.url).searchParams.get("state");
    const callback = await app.get(`/callback/acme?code=abc&state=${state}`, start.cookie);
    expect(callback.status).toBe(302);
    expect(callback.headers.get("location")).not.toContain("error");
    const record = app.t.find({ action: "callback:acme" })!;
    expect(record.attributes).toMatchObject({ "audit.outcome": "success", "audit.metadata.provider": "acme", "http.response.status_code": 302 });
    expect(record.attributes["user.id"]).toEqual(expect.any(String));
    expect(app.t.find({ action: "sign-in:social" })?.attributes).toMatchObject({ "audit.outcome": "success", "audit.metadata.provider": "acme" });
  });

  it("OAuth: a callback that redirects with error= is a failure", async () => {
    app.t.reset();
    const start = await app.post("/sign-in/social", { provider: "acme", callbackURL: "/dashboard" });
    const callback = await app.get(`/callback/acme?code=abc&state=forged-state`, start.cookie);
    expect(callback.status).toBe(302);
    const record = app.t.find({ action: "callback:acme" })!;
    expect(record.attributes["audit.outcome"]).toBe("failure");
    expect(record.attributes["error.type"]).toEqual(expect.any(String));
  });

  it("sign-out carries the user and the session that ended", async () => {
    const { cookie, userId } = await signUp(app, "signout@example.com");
    app.t.reset();
    await app.post("/sign-out", {}, cookie);
    const record = app.t.find({ action: "sign-out" })!;
    expect(app.t.records()).toHaveLength(1);
    expect(record.eventName).toBe("auth.sign_out");
    expect(record.attributes).toMatchObject({ "audit.outcome": "success", "audit.severity": "medium", "user.id": userId });
    expect(record.attributes["session.id"]).toEqual(expect.any(String));
  });

  it("revoke-session, revoke-other-sessions and revoke-sessions carry the user", async () => {
    const { cookie, userId } = await signUp(app, "revoke@example.com");
    const second = await app.post("/sign-in/email", { email: "revoke@example.com", password: PASSWORD });
    const third = await app.post("/sign-in/email", { email: "revoke@example.com", password: PASSWORD });
    const sessions = await app.get("/list-sessions", cookie);
    app.t.reset();
    const other = sessions.json.find((s: { token: string }) => !cookie.includes(s.token));
    await app.post("/revoke-session", { token: other.token }, cookie);
    await app.post("/revoke-other-sessions", {}, cookie);
    await app.post("/revoke-sessions", {}, cookie);
    expect(app.t.records().map((r) => [r.attributes["audit.action"], r.attributes["audit.outcome"], r.attributes["user.id"], r.attributes["audit.severity"]])).toEqual([
      ["revoke-session", "success", userId, "high"],
      ["revoke-other-sessions", "success", userId, "high"],
      ["revoke-sessions", "success", userId, "high"],
    ]);
    expect(second.cookie && third.cookie).toBeTruthy();
  });

  it("delete-user: a wrong password is a failure (not a success), the right one a success with the user", async () => {
    const { cookie, userId } = await signUp(app, "delete@example.com");
    app.t.reset();
    const bad = await app.post("/delete-user", { password: WRONG }, cookie);
    expect(bad.status).toBe(400);
    const ok = await app.post("/delete-user", { password: PASSWORD }, cookie);
    expect(ok.status).toBe(200);
    expect(app.t.records().map((r) => [r.attributes["audit.action"], r.attributes["audit.outcome"], r.attributes["user.id"], r.attributes["audit.severity"]])).toEqual([
      ["delete-user", "failure", userId, "high"],
      ["delete-user", "success", userId, "high"],
    ]);
    expect(serialised(app.t)).not.toContain(WRONG);
  });

  it("admin actions: the admin is the actor, the target the subject; ban is critical, unban is not", async () => {
    const { userId: targetId } = await signUp(app, "target@example.com");
    const { userId: adminId } = await signUp(app, "boss@example.com");
    app.database.prepare(`UPDATE user SET role = 'admin' WHERE id = ?`).run(adminId);
    const { cookie } = await app.post("/sign-in/email", { email: "boss@example.com", password: PASSWORD });
    app.t.reset();
    await app.post("/admin/ban-user", { userId: targetId, banReason: "spam" }, cookie);
    await app.post("/admin/unban-user", { userId: targetId }, cookie);
    await app.post("/admin/set-role", { userId: targetId, role: "admin" }, cookie);
    expect(app.t.records().map((r) => [r.attributes["audit.action"], r.attributes["user.id"], r.attributes["audit.actor.id"], r.attributes["audit.severity"]])).toEqual([
      ["admin:ban-user", targetId, adminId, "critical"],
      ["admin:unban-user", targetId, adminId, "low"],
      ["admin:set-role", targetId, adminId, "critical"],
    ]);
  });

  it("reads are not audited: get-session, list-sessions", async () => {
    const { cookie } = await signUp(app, "reads@example.com");
    app.t.reset();
    await app.get("/get-session", cookie);
    await app.get("/list-sessions", cookie);
    expect(app.t.records()).toHaveLength(0);
  });
});

describe("better-auth plugin: options", () => {
  it("per-path severity override and path restriction", async () => {
    const app = await setup({ paths: ["/sign-up/email", { path: "/sign-in/*", config: { severity: "critical" } }] });
    await signUp(app, "paths@example.com");
    await app.post("/sign-in/email", { email: "paths@example.com", password: PASSWORD });
    await app.post("/sign-out", {}, (await app.post("/sign-in/email", { email: "paths@example.com", password: PASSWORD })).cookie);
    expect(app.t.records().map((r) => [r.attributes["audit.action"], r.attributes["audit.severity"]])).toEqual([
      ["sign-up:email", "medium"],
      ["sign-in:email", "critical"],
      ["sign-in:email", "critical"],
    ]);
  });

  it("capture flags: no IP or user agent when turned off; request body only when asked, without credentials", async () => {
    const off = await setup({ capture: { ipAddress: false, userAgent: false } });
    await signUp(off, "noip@example.com");
    expect(off.t.records()[0].attributes["client.address"]).toBeUndefined();
    expect(off.t.records()[0].attributes["user_agent.original"]).toBeUndefined();

    const body = await setup({ capture: { requestBody: true } });
    await body.post("/sign-in/email", { email: "nobody@example.com", password: WRONG, rememberMe: true });
    const attrs = body.t.records()[0].attributes;
    expect(attrs["audit.metadata.requestBody.rememberMe"]).toBe(true);
    expect(JSON.stringify(attrs)).not.toContain(WRONG);
  });

  it("enabled: false records nothing", async () => {
    const app = await setup({ enabled: false });
    await signUp(app, "disabled@example.com");
    expect(app.t.records()).toHaveLength(0);
  });

  it("works through auth.api calls (no Request): headers give IP and user agent", async () => {
    const app = await setup();
    await app.auth.api.signUpEmail({
      body: { email: "api@example.com", password: PASSWORD, name: "Api" },
      headers: new Headers({ "x-forwarded-for": "198.51.100.4", "user-agent": "server-side" }),
    });
    expect(app.t.find({ action: "sign-up:email" })?.attributes).toMatchObject({ "client.address": "198.51.100.4", "user_agent.original": "server-side" });
  });
});
