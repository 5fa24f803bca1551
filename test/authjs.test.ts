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
    { loggerProvider: t.provider, trustedProxies: ["private"], ...options },
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

describe("Auth.js v5: the action table and options", () => {
  afterEach(() => vi.restoreAllMocks());

  it("without auditHandler (e.g. a server action's signIn) a failure is still recorded, without request context", async () => {
    const { t, config } = setup();
    const csrf = await Auth(new Request("http://localhost:3000/auth/csrf"), config);
    const { csrfToken } = (await csrf.json()) as { csrfToken: string };
    const cookie = csrf.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
    await Auth(
      new Request("http://localhost:3000/auth/callback/credentials", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", cookie },
        body: new URLSearchParams({ email: "ada@example.com", password: WRONG, csrfToken }).toString(),
      }),
      config,
    );
    const record = t.find({ action: "sign-in:credentials" })!;
    expect(record.attributes).toMatchObject({ "audit.outcome": "failure", "error.type": "CredentialsSignin" });
    expect(record.attributes["client.address"]).toBeUndefined();
  });

  it("names each Auth.js event: sign-up:oauth for a new OAuth user, sign-in:oauth, create-user, update-user, link-account", async () => {
    const { t, config } = setup();
    const events = config.events!;
    const github = { type: "oauth" as const, provider: "github", providerAccountId: "42", access_token: "gho_secret_token" };
    await events.signIn!({ user: { id: "u-new" }, account: github, profile: {}, isNewUser: true });
    await events.signIn!({ user: { id: "u-old" }, account: { ...github, type: "oidc", provider: "okta" }, isNewUser: false });
    await events.createUser!({ user: { id: "u-new", email: "new@example.com" } });
    await events.updateUser!({ user: { id: "u-old", email: "old@example.com" } });
    await events.linkAccount!({ user: { id: "u-new", email: "new@example.com", emailVerified: null }, account: { ...github, userId: "u-new" }, profile: {} });

    expect(t.events().map((e) => [e.action, e.userId, e.metadata?.provider])).toEqual([
      ["sign-up:oauth", "u-new", "github"],
      ["sign-in:oauth", "u-old", "okta"],
      ["create-user", "u-new", undefined],
      ["update-user", "u-old", undefined],
      ["link-account", "u-new", "github"],
    ]);
    expect(t.find({ action: "sign-in:oauth" })!.attributes["audit.metadata.providerType"]).toBe("oidc");
    expect(serialised(t)).not.toContain("gho_secret_token");
  });

  it("session events are off by default and recorded when asked for", async () => {
    const off = setup();
    await off.browser.signIn("credentials", { email: "ada@example.com", password: PASSWORD });
    await off.browser.session();
    expect(off.t.findAll({ action: "session" })).toHaveLength(0);

    const on = setup({}, { events: { session: true } });
    await on.browser.signIn("credentials", { email: "ada@example.com", password: PASSWORD });
    await on.browser.session();
    const record = on.t.find({ action: "session" })!;
    expect(record.attributes).toMatchObject({ "user.id": USER_ID, "url.path": "/auth/session", "audit.severity": "low" });
  });

  it("enabled: false records nothing and changes nothing", async () => {
    const { t, browser } = setup({}, { enabled: false });
    await browser.signIn("credentials", { email: "ada@example.com", password: WRONG });
    await browser.signIn("credentials", { email: "ada@example.com", password: PASSWORD });
    expect((await browser.session())?.user?.email).toBe("ada@example.com");
    expect(t.records()).toHaveLength(0);
  });

  it("an app without a logger keeps Auth.js's console output", async () => {
    const print = vi.spyOn(console, "error").mockImplementation(() => {});
    const { t, browser } = setup({ logger: undefined });
    await browser.signIn("credentials", { email: "ada@example.com", password: WRONG });
    expect(print).toHaveBeenCalledWith(expect.stringContaining("[auth][error] CredentialsSignin"));
    expect(t.find({ action: "sign-in:credentials", outcome: "failure" })).toBeDefined();
  });

  it("sign-in never waits for the exporter: an export that never completes does not hold the response", async () => {
    const { LoggerProvider, SimpleLogRecordProcessor } = await import("@opentelemetry/sdk-logs");
    let exported = 0;
    const stuck = { export: () => void exported++, forceFlush: async () => {}, shutdown: async () => {} };
    const provider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter: stuck })] });
    const config = withAudit(
      {
        basePath: "/auth",
        secret: "authjs-test-secret-0123456789abcdefghijklmnop",
        trustHost: true,
        providers: [Credentials({ credentials: { password: {} }, authorize: async (c) => (c.password === PASSWORD ? { id: USER_ID } : null) })],
      },
      { loggerProvider: provider },
    );
    const browser = webClient(auditHandler((request: Request) => Auth(request, config), config));
    const r = await browser.signIn("credentials", { password: PASSWORD });
    expect(r.location).not.toContain("error=");
    expect(exported).toBe(1);
  });
});
