import { Auth, type AuthConfig } from "@auth/core";
import Credentials from "@auth/core/providers/credentials";
import { afterEach, describe, expect, it, vi } from "vitest";
import { auditHandler, withAudit, type WithAuditOptions } from "otel-auth-audit/authjs";
import { createTestAudit, type TestAudit } from "otel-auth-audit/testing";
import { CLIENT_IP, USER_AGENT, webClient } from "./helpers/authjs-client.js";

const PASSWORD = "correct-horse-authjs-5";
const WRONG = "wrong-password-canary-55";
const USER_ID = "user-ada";

/** A v5 app: one Credentials provider, JWT sessions, a signIn callback that refuses one account. */
function setup(appConfig: Partial<AuthConfig> = {}, options: Omit<WithAuditOptions, "loggerProvider"> = {}) {
  const t = createTestAudit();
  const appErrors: unknown[] = [];
  const config = withAudit(
    {
      basePath: "/auth",
      secret: "authjs-test-secret-0123456789abcdefghijklmnop",
      trustHost: true,
      session: { strategy: "jwt" },
      logger: { error: (error: Error) => void appErrors.push(error) },
      providers: [
        Credentials({
          credentials: { email: {}, password: {} },
          authorize: async (credentials) => {
            if (credentials.password !== PASSWORD) return null;
            const email = String(credentials.email);
            return { id: email.startsWith("blocked") ? "user-blocked" : USER_ID, email };
          },
        }),
      ],
      callbacks: { signIn: ({ user }) => user.id !== "user-blocked" },
      ...appConfig,
    } satisfies AuthConfig,
    { loggerProvider: t.provider, ...options },
  );
  const handler = auditHandler((request: Request) => Auth(request, config), config);
  return { t, appErrors, config, browser: webClient(handler) };
}

/** Every serialised record, for scanning for secrets. */
const serialised = (t: TestAudit) => JSON.stringify(t.records().map((r) => ({ body: r.body, attributes: r.attributes, eventName: r.eventName })));

function expectRequestContext(attributes: Record<string, unknown>) {
  expect(attributes["client.address"]).toBe(CLIENT_IP);
  expect(attributes["user_agent.original"]).toBe(USER_AGENT);
  expect(attributes["http.request.method"]).toEqual(expect.any(String));
  expect(attributes["url.path"]).toMatch(/^\/auth\//);
}

describe("Auth.js v5 (@auth/core Auth): withAudit + auditHandler", () => {
  it("a successful credentials sign-in: one sign-in:credentials record with user, IP and user agent", async () => {
    const { t, browser } = setup();
    const r = await browser.signIn("credentials", { email: "ada@example.com", password: PASSWORD });
    expect(r.status).toBe(302);
    expect(r.location).not.toContain("error=");
    expect((await browser.session())?.user?.email).toBe("ada@example.com");

    expect(t.records()).toHaveLength(1);
    const record = t.find({ action: "sign-in:credentials" })!;
    expect(record.eventName).toBe("auth.sign_in.credentials");
    expect(record.attributes).toMatchObject({
      "audit.outcome": "success",
      "audit.severity": "medium",
      "user.id": USER_ID,
      "http.request.method": "POST",
      "url.path": "/auth/callback/credentials",
      "audit.metadata.provider": "credentials",
    });
    expectRequestContext(record.attributes);
    expect(serialised(t)).not.toContain(PASSWORD);
  });

  it("a wrong password: a failure record with error.type CredentialsSignin, no user, high severity", async () => {
    const { t, browser, appErrors } = setup();
    const r = await browser.signIn("credentials", { email: "ada@example.com", password: WRONG });
    expect(r.location).toContain("error=CredentialsSignin");
    expect(await browser.session()).toBeNull();

    expect(t.records()).toHaveLength(1);
    const record = t.find({ action: "sign-in:credentials", outcome: "failure" })!;
    expect(record.attributes).toMatchObject({ "error.type": "CredentialsSignin", "audit.severity": "high", "url.path": "/auth/callback/credentials" });
    expect(record.attributes["user.id"]).toBeUndefined();
    expect(record.severityNumber).toBe(13);
    expectRequestContext(record.attributes);
    // the app's own logger still hears about it
    expect(appErrors.map((e) => (e as { type?: string }).type)).toContain("CredentialsSignin");
    expect(serialised(t)).not.toContain(WRONG);
  });

  it("a refused signIn callback: a failure record with error.type AccessDenied", async () => {
    const { t, browser } = setup();
    const r = await browser.signIn("credentials", { email: "blocked@example.com", password: PASSWORD });
    expect(r.location).toContain("error=AccessDenied");

    expect(t.records()).toHaveLength(1);
    const record = t.find({ action: "sign-in:credentials" })!;
    expect(record.attributes).toMatchObject({ "audit.outcome": "failure", "error.type": "AccessDenied" });
    expect(record.attributes["user.id"]).toBeUndefined();
    expectRequestContext(record.attributes);
    expect(serialised(t)).not.toContain(PASSWORD);
  });

  it("sign-out: a sign-out record with the user from the JWT", async () => {
    const { t, browser } = setup();
    await browser.signIn("credentials", { email: "ada@example.com", password: PASSWORD });
    t.reset();
    const r = await browser.signOut();
    expect(r.status).toBe(302);
    expect(await browser.session()).toBeNull();

    expect(t.records()).toHaveLength(1);
    const record = t.find({ action: "sign-out" })!;
    expect(record.attributes).toMatchObject({ "audit.outcome": "success", "user.id": USER_ID, "url.path": "/auth/signout", "http.request.method": "POST" });
    expectRequestContext(record.attributes);
  });

  it("an app events handler that throws: the record is kept and the sign-in still succeeds", async () => {
    const signIn = vi.fn(async () => {
      throw new Error("the app's analytics are down");
    });
    const { t, browser, appErrors } = setup({ events: { signIn } });
    const r = await browser.signIn("credentials", { email: "ada@example.com", password: PASSWORD });
    expect(r.location).not.toContain("error=");
    expect((await browser.session())?.user?.email).toBe("ada@example.com");
    expect(signIn).toHaveBeenCalledOnce();
    // Auth.js itself reports the handler's error as an EventError; it is no audit failure
    expect(appErrors.map((e) => (e as { type?: string }).type)).toContain("EventError");

    expect(t.records()).toHaveLength(1);
    const record = t.find({ action: "sign-in:credentials" })!;
    expect(record.attributes).toMatchObject({ "audit.outcome": "success", "user.id": USER_ID });
    expectRequestContext(record.attributes);
  });
});
