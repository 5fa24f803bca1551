import NextAuthImport, { type AuthOptions } from "next-auth";
import CredentialsImport from "next-auth/providers/credentials";
import { afterEach, describe, expect, it, vi } from "vitest";
import { auditHandler, withAudit, type WithAuditOptions } from "otel-auth-audit/authjs";
import { createTestAudit, type TestAudit } from "otel-auth-audit/testing";
import { CLIENT_IP, USER_AGENT, pagesServer, type ClientIdentity } from "./helpers/authjs-client.js";

// next-auth 4 is CommonJS (`exports.default`): Next.js's bundler unwraps it, Node's ESM loader does not
const unwrap = <M extends { default: unknown }>(m: M): M["default"] => (typeof m === "function" ? m : m.default);
const NextAuth = unwrap(NextAuthImport);
const CredentialsProvider = unwrap(CredentialsImport);

const PASSWORD = "correct-horse-nextauth-4";
const WRONG = "wrong-password-canary-44";
const USER_ID = "user-grace";

const servers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** The proxies in front of the test app: the loopback socket and one private hop. */
const PROXIES: WithAuditOptions = { trustedProxies: ["loopback", "private"] };

/**
 * A next-auth 4 app as `pages/api/auth/[...nextauth].ts` builds it (Credentials, JWT sessions, a
 * refusing signIn callback), served by a real node:http server on loopback.
 */
async function setup(appOptions: Partial<AuthOptions> = {}, options: Omit<WithAuditOptions, "loggerProvider"> = PROXIES, identity?: ClientIdentity) {
  const t = createTestAudit();
  const authOptions = withAudit(
    {
      secret: "nextauth-test-secret-0123456789abcdefghijklmnop",
      session: { strategy: "jwt" },
      providers: [
        CredentialsProvider({
          credentials: { email: { label: "Email" }, password: { label: "Password", type: "password" } },
          authorize: async (credentials) => {
            if (credentials?.password !== PASSWORD) return null;
            const email = credentials.email;
            return { id: email.startsWith("blocked") ? "user-blocked" : USER_ID, email };
          },
        }),
      ],
      callbacks: { signIn: ({ user }) => user.id !== "user-blocked" },
      ...appOptions,
    } satisfies AuthOptions,
    { loggerProvider: t.provider, ...options },
  );
  const handler = auditHandler((req: object, res: object) => NextAuth(req as never, res as never, authOptions), authOptions);
  const server = await pagesServer(handler);
  servers.push(server);
  return { t, authOptions, server, browser: server.client(identity) };
}

const serialised = (t: TestAudit) => JSON.stringify(t.records().map((r) => ({ body: r.body, attributes: r.attributes, eventName: r.eventName })));

function expectRequestContext(attributes: Record<string, unknown>) {
  expect(attributes["client.address"]).toBe(CLIENT_IP);
  expect(attributes["user_agent.original"]).toBe(USER_AGENT);
  expect(attributes["url.path"]).toMatch(/^\/api\/auth\//);
}

describe("next-auth 4 (Pages Router handler): withAudit + auditHandler", () => {
  process.env.NEXTAUTH_URL = "http://localhost:3000";

  it("a successful credentials sign-in: one sign-in:credentials record with user, IP and user agent", async () => {
    const { t, browser } = await setup();
    const r = await browser.signIn("credentials", { email: "grace@example.com", password: PASSWORD });
    expect(r.status).toBe(302);
    expect(r.location).not.toContain("error=");
    expect((await browser.session())?.user?.email).toBe("grace@example.com");

    expect(t.records()).toHaveLength(1);
    const record = t.find({ action: "sign-in:credentials" })!;
    expect(record.attributes).toMatchObject({
      "audit.outcome": "success",
      "user.id": USER_ID,
      "http.request.method": "POST",
      "url.path": "/api/auth/callback/credentials",
      "audit.metadata.provider": "credentials",
    });
    expectRequestContext(record.attributes);
    expect(serialised(t)).not.toContain(PASSWORD);
  });

  it("a wrong password: v4 logs nothing, the response tells: failure, CredentialsSignin, no user", async () => {
    const { t, browser } = await setup();
    const r = await browser.signIn("credentials", { email: "grace@example.com", password: WRONG });
    expect(r.location).toContain("error=CredentialsSignin");
    expect(await browser.session()).toBeNull();

    expect(t.records()).toHaveLength(1);
    const record = t.find({ action: "sign-in:credentials", outcome: "failure" })!;
    expect(record.attributes).toMatchObject({ "error.type": "CredentialsSignin", "audit.severity": "high" });
    expect(record.attributes["user.id"]).toBeUndefined();
    expectRequestContext(record.attributes);
    expect(serialised(t)).not.toContain(WRONG);
  });

  it("a wrong password from a `json: true` client: the 401 is the failure", async () => {
    const { t, browser } = await setup();
    const csrfToken = await browser.csrf();
    const r = await browser.post("/callback/credentials", { email: "grace@example.com", password: WRONG, csrfToken, json: "true" });
    expect(r.status).toBe(401);
    const record = t.find({ action: "sign-in:credentials" })!;
    expect(record.attributes).toMatchObject({ "audit.outcome": "failure", "error.type": "CredentialsSignin" });
    expect(record.attributes["user.id"]).toBeUndefined();
    expectRequestContext(record.attributes);
  });

  it("a refused signIn callback: 403 AccessDenied is recorded as a failure", async () => {
    const { t, browser } = await setup();
    const csrfToken = await browser.csrf();
    const r = await browser.post("/callback/credentials", { email: "blocked@example.com", password: PASSWORD, csrfToken, json: "true" });
    expect(r.status).toBe(403);
    expect(t.records()).toHaveLength(1);
    const record = t.find({ action: "sign-in:credentials" })!;
    expect(record.attributes).toMatchObject({ "audit.outcome": "failure", "error.type": "AccessDenied" });
    expect(record.attributes["user.id"]).toBeUndefined();
    expectRequestContext(record.attributes);
    expect(serialised(t)).not.toContain(PASSWORD);
  });

  it("the error page an earlier failure redirects to records nothing more", async () => {
    const { t, browser } = await setup({ pages: { signIn: "/login" } });
    const r = await browser.signIn("credentials", { email: "grace@example.com", password: WRONG });
    const errorPage = new URL(r.location!);
    const next = await browser.get(errorPage.pathname.replace(/^\/api\/auth/, "") + errorPage.search);
    expect(next.location).toContain("error=CredentialsSignin");
    const signInPage = new URL(next.location!);
    await browser.get(signInPage.pathname.replace(/^\/api\/auth/, "") + signInPage.search);
    expect(t.records()).toHaveLength(1);
  });

  it("sign-out: a sign-out record with the user from the JWT", async () => {
    const { t, browser } = await setup();
    await browser.signIn("credentials", { email: "grace@example.com", password: PASSWORD });
    t.reset();
    await browser.signOut();
    expect(await browser.session()).toBeNull();

    expect(t.records()).toHaveLength(1);
    const record = t.find({ action: "sign-out" })!;
    expect(record.attributes).toMatchObject({ "audit.outcome": "success", "user.id": USER_ID, "url.path": "/api/auth/signout" });
    expectRequestContext(record.attributes);
  });

  it("an app events handler that throws: the record is kept and the sign-in still succeeds", async () => {
    const signIn = vi.fn(async () => {
      throw new Error("the app's analytics are down");
    });
    const appLoggerError = vi.fn();
    const { t, browser } = await setup({ events: { signIn }, logger: { error: appLoggerError } });
    const r = await browser.signIn("credentials", { email: "grace@example.com", password: PASSWORD });
    expect(r.location).not.toContain("error=");
    expect((await browser.session())?.user?.email).toBe("grace@example.com");
    expect(signIn).toHaveBeenCalledOnce();
    expect(appLoggerError).toHaveBeenCalledWith("SIGN_IN_EVENT_ERROR", expect.anything());

    expect(t.records()).toHaveLength(1);
    expect(t.find({ action: "sign-in:credentials" })!.attributes).toMatchObject({ "audit.outcome": "success", "user.id": USER_ID });
  });

  it("browser logs posted to /_log reach the app's logger but never the audit trail", async () => {
    const appLoggerError = vi.fn();
    const { t, browser } = await setup({ logger: { error: appLoggerError } });
    const csrfToken = await browser.csrf();
    await browser.post("/_log", { level: "error", code: "CredentialsSignin", message: "forged", csrfToken });
    expect(appLoggerError).toHaveBeenCalledWith("CredentialsSignin", expect.anything());
    expect(t.records()).toHaveLength(0);
  });
});
