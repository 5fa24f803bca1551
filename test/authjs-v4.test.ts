import NextAuthImport, { type AuthOptions } from "next-auth";
import CredentialsImport from "next-auth/providers/credentials";
import { createServer } from "node:http";
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { BruteForceDetector, type BruteForceSignal } from "otel-auth-audit";
import { auditHandler, withAudit, type WithAuditOptions } from "otel-auth-audit/authjs";
import { createTestAudit, type TestAudit } from "otel-auth-audit/testing";
import { isKnownErrorCode } from "../src/authjs/error-codes.js";
import { userHashOf } from "../src/better-auth/user-hash.js";
import { CLIENT_IP, USER_AGENT, pagesServer, type ClientIdentity } from "./helpers/authjs-client.js";
import { OAUTH_USER, startOAuthServer } from "./helpers/oauth-server.js";

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
      secret: SECRET,
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

const everything = (t: TestAudit, raw: unknown[] = []) =>
  JSON.stringify([raw, t.records().map((r) => ({ body: r.body, attributes: r.attributes, eventName: r.eventName }))]);

describe("next-auth 4: app text never becomes error.type", () => {
  it("property: a message thrown by authorize or the signIn callback (the pattern v4's docs show) leaks into no record", async () => {
    const canary = fc.record({
      email: fc.emailAddress().filter((e) => e.length > 8),
      password: fc.stringMatching(/^[A-Za-z0-9]{12}$/).map((s) => `pw-${s}`),
      where: fc.constantFrom("authorize", "callback"),
      json: fc.boolean(),
      pattern: fc.constantFrom(
        (e: string) => `No user found with email ${e}`,
        (e: string, p: string) => `Wrong password ${p} for ${e}`,
        (e: string) => e,
        (e: string, p: string) => `AccessDenied&x=${e}&y=${p}`,
      ),
    });
    const { server, t, raw } = await throwingApp();
    await fc.assert(
      fc.asyncProperty(canary, async ({ email, password, where, json, pattern }) => {
        t.reset();
        raw.length = 0;
        const browser = server.client();
        const csrfToken = await browser.csrf();
        const form: Record<string, string> = { email, password, csrfToken, throwIn: where, message: pattern(email, password) };
        if (json) form.json = "true";
        const r = await browser.post("/callback/credentials", form);
        // v4 itself puts the text in the answer: that is the app's business, the trail is ours
        expect(JSON.stringify(r.body) + (r.location ?? "")).toContain("error=");
        const records = t.records();
        expect(records).toHaveLength(1);
        expect(isKnownErrorCode(records[0]!.attributes["error.type"])).toBe(true);
        expect(records[0]!.attributes["error.type"]).toBe(where === "authorize" ? "CredentialsSignin" : "AccessDenied");
        const all = everything(t, raw);
        expect(all.toLowerCase()).not.toContain(email.toLowerCase());
        expect(all).not.toContain(password);
      }),
      { numRuns: 16 },
    );
  });
});

/** An app whose authorize or signIn callback throws the message the form names; records unredacted. */
async function throwingApp() {
  const raw: unknown[] = [];
  const t = createTestAudit({ redaction: false });
  const authOptions = withAudit(
    {
      secret: SECRET,
      session: { strategy: "jwt" },
      logger: { error: () => {} },
      providers: [
        CredentialsProvider({
          credentials: { email: {}, password: {} },
          authorize: async (credentials, req) => {
            const body = req.body as Record<string, string>;
            if (body.throwIn === "authorize") throw new Error(body.message);
            return { id: "user-x", email: credentials?.email };
          },
        }),
      ],
      callbacks: {
        signIn: ({ credentials }) => {
          const body = credentials as Record<string, string> | undefined;
          if (body?.throwIn === "callback") throw new Error(body.message);
          return true;
        },
      },
    } satisfies AuthOptions,
    { loggerProvider: t.provider, beforeLog: (event) => void raw.push(event) },
  );
  const server = await pagesServer(auditHandler((req: object, res: object) => NextAuth(req as never, res as never, authOptions), authOptions));
  servers.push(server);
  return { t, raw, server };
}

const SECRET = "nextauth-test-secret-0123456789abcdefghijklmnop";
const ACCOUNT = "target.account@example.com";

describe("next-auth 4: refusals, JSON clients, account keys", () => {
  it("a signIn callback returning a URL is a failed sign-in (redirect and json: true alike)", async () => {
    const { t, browser } = await setup({ callbacks: { signIn: () => "/unauthorized" } });
    const r = await browser.signIn("credentials", { email: ACCOUNT, password: PASSWORD });
    expect(r.location).toContain("/unauthorized");
    const csrfToken = await browser.csrf();
    const j = await browser.post("/callback/credentials", { email: ACCOUNT, password: PASSWORD, csrfToken, json: "true" });
    expect(j.status).toBe(200);
    expect(await browser.session()).toBeNull();
    expect(t.events().map((e) => [e.action, e.outcome, e.error, e.userHash])).toEqual([
      ["sign-in:credentials", "failure", "AccessDenied", userHashOf({ email: ACCOUNT }, SECRET, {})],
      ["sign-in:credentials", "failure", "AccessDenied", userHashOf({ email: ACCOUNT }, SECRET, {})],
    ]);
    expectRequestContext(t.records()[0]!.attributes);
  });

  it("a json: true client whose OAuth sign-in fails: the 200 { url: …error=OAuthSignin } is read from res.json", async () => {
    const down = createServer((_req, res) => res.writeHead(503).end());
    await new Promise<void>((resolve) => down.listen(0, "127.0.0.1", resolve));
    const issuer = `http://127.0.0.1:${(down.address() as { port: number }).port}`;
    try {
      const { t, browser } = await setup({
        logger: { error: () => {} },
        providers: [
          {
            id: "acme",
            name: "Acme",
            type: "oauth",
            wellKnown: `${issuer}/.well-known/openid-configuration`,
            clientId: "acme-client",
            clientSecret: "acme-secret",
            idToken: true,
            profile: (p: { sub: string }) => ({ id: p.sub }),
          },
        ],
      });
      const csrfToken = await browser.csrf();
      const r = await browser.post("/signin/acme", { csrfToken, json: "true", callbackUrl: "http://localhost:3000" });
      expect(r.status).toBe(200);
      expect((r.body as { url: string }).url).toContain("error=OAuthSignin");
      expect(t.records()).toHaveLength(1);
      const record = t.find({ action: "sign-in:oauth" })!;
      expect(record.attributes).toMatchObject({ "audit.outcome": "failure", "error.type": "OAuthSignin", "audit.metadata.provider": "acme", "url.path": "/api/auth/signin/acme" });
      expectRequestContext(record.attributes);
    } finally {
      await new Promise((resolve) => down.close(resolve));
    }
  });

  it("12 wrong passwords from one client raise one account_ip signal, even when the client rotates X-Forwarded-For", async () => {
    const t = createTestAudit({ redaction: false });
    const signals: BruteForceSignal[] = [];
    new BruteForceDetector({ ip: false, account: false, onSuspected: (s) => void signals.push(s) }).attach(t.audit);
    const authOptions = withAudit(
      {
        secret: SECRET,
        session: { strategy: "jwt" },
        providers: [CredentialsProvider({ credentials: { email: {}, password: {} }, authorize: async () => null })],
      } satisfies AuthOptions,
      // the default: no proxy trusted, the socket's address counts
      { logger: t.audit },
    );
    const server = await pagesServer(auditHandler((req: object, res: object) => NextAuth(req as never, res as never, authOptions), authOptions));
    servers.push(server);
    for (let i = 0; i < 12; i++) {
      const browser = server.client({ forwardedFor: `198.51.100.${i + 1}` });
      await browser.signIn("credentials", { email: ACCOUNT, password: `guess-${i}` });
    }
    const failures = t.findAll({ action: "sign-in:credentials", outcome: "failure" });
    expect(failures).toHaveLength(12);
    expect(new Set(failures.map((f) => f.attributes["client.address"]))).toEqual(new Set(["127.0.0.1"]));
    expect(signals).toHaveLength(1);
    expect(signals[0]).toMatchObject({ kind: "account_ip", account: userHashOf({ email: ACCOUNT }, SECRET, {}), ipAddress: "127.0.0.1" });
    expect(everything(t)).not.toContain(ACCOUNT);
  });
});

describe("next-auth 4: trusted proxies", () => {
  const spoofed = "6.6.6.6";
  for (const [name, options, expected] of [
    ["default (trust none): the socket's address", {}, "127.0.0.1"],
    ["one hop: the address the proxy appended", { trustedProxies: 1 }, CLIENT_IP],
    ["loopback trusted: the first untrusted hop from the right", { trustedProxies: ["loopback"] }, CLIENT_IP],
    ["two hops: the client's own claim, as configured", { trustedProxies: 2 }, spoofed],
  ] as const) {
    it(`${name}`, async () => {
      // the client sends X-Forwarded-For: 6.6.6.6; a proxy on loopback appends the address it saw
      const { t, browser } = await setup({}, options, { forwardedFor: `${spoofed}, ${CLIENT_IP}` });
      await browser.signIn("credentials", { email: ACCOUNT, password: "wrong" });
      expect(t.records()[0]!.attributes["client.address"]).toBe(expected);
    });
  }
});

describe("next-auth 4: withAudit alone", () => {
  it("records failures and refusals from its hooks, without request context, and no false failure", async () => {
    const t = createTestAudit();
    const authOptions = withAudit(
      {
        secret: SECRET,
        session: { strategy: "jwt" },
        providers: [CredentialsProvider({ credentials: { email: {}, password: {} }, authorize: async (c) => (c?.password === PASSWORD ? { id: "u" } : null) })],
        callbacks: { signIn: ({ credentials }) => ((credentials as { email?: string } | undefined)?.email === "blocked@example.com" ? "/blocked" : true) },
      } satisfies AuthOptions,
      { loggerProvider: t.provider },
    );
    const server = await pagesServer((req: object, res: object) => NextAuth(req as never, res as never, authOptions));
    servers.push(server);
    const browser = server.client();
    await browser.signIn("credentials", { email: ACCOUNT, password: "wrong" });
    await browser.signIn("credentials", { email: "blocked@example.com", password: PASSWORD });
    await browser.post("/signout", {});
    expect(t.events().map((e) => [e.action, e.error, e.ipAddress])).toEqual([
      ["sign-in:credentials", "CredentialsSignin", undefined],
      ["sign-in:credentials", "AccessDenied", undefined],
    ]);
  });
});

describe("next-auth 4: OAuth callback failures", () => {
  const acme = {
    id: "acme",
    name: "Acme",
    type: "oauth" as const,
    authorization: "http://127.0.0.1:9/authorize",
    token: "http://127.0.0.1:9/token",
    userinfo: "http://127.0.0.1:9/userinfo",
    clientId: "acme-client",
    clientSecret: "acme-secret",
    profile: (p: { id: string }) => ({ id: p.id }),
  };

  for (const [name, query, code] of [
    ["the provider answered error=access_denied", "?error=access_denied&error_description=jane%40example.com%20said%20no", "Callback"],
    ["a forged callback without the state cookie", "?code=stolen-code&state=forged-state", "OAuthCallback"],
  ] as const) {
    it(`${name}: sign-in:oauth, failure, v4's ${code} code, and nothing from the query`, async () => {
      const { t, browser } = await setup({ providers: [acme], logger: { error: () => {} } });
      const r = await browser.get(`/callback/acme${query}`);
      expect(r.location).toContain(`error=${code}`);
      expect(t.records()).toHaveLength(1);
      const record = t.find({ action: "sign-in:oauth" })!;
      expect(record.attributes).toMatchObject({
        "audit.outcome": "failure",
        "error.type": code,
        "audit.metadata.provider": "acme",
        "url.path": "/api/auth/callback/acme",
        "http.request.method": "GET",
      });
      expectRequestContext(record.attributes);
      const all = JSON.stringify(t.records().map((x) => x.attributes));
      expect(all).not.toContain("jane");
      expect(all).not.toContain("stolen-code");
    });
  }

  it("a callback to a provider that is not configured: v4 answers 400, nothing of the segment is recorded", async () => {
    const { t, browser } = await setup({ providers: [acme], logger: { error: () => {} } });
    const r = await browser.get(`/callback/${encodeURIComponent("jane@example.com")}?code=x&state=y`);
    expect(r.status).toBe(400);
    expect(JSON.stringify(t.records().map((x) => x.attributes))).not.toContain("jane");
  });
});

describe("next-auth 4: a real OAuth 2.0 flow on loopback", () => {
  async function oauthApp(signIn?: NonNullable<AuthOptions["callbacks"]>["signIn"]) {
    const provider = await startOAuthServer();
    servers.push(provider);
    const { t, browser } = await setup({
      logger: { error: () => {} },
      providers: [
        {
          id: "acme",
          name: "Acme",
          type: "oauth",
          authorization: { url: `${provider.issuer}/authorize`, params: { scope: "profile" } },
          token: `${provider.issuer}/token`,
          userinfo: `${provider.issuer}/userinfo`,
          clientId: "acme-client",
          clientSecret: "acme-secret",
          checks: ["state", "pkce"],
          profile: (p: typeof OAUTH_USER) => ({ id: p.sub, email: p.email, name: p.name }),
        },
      ],
      ...(signIn ? { callbacks: { signIn } } : {}),
    });
    const signInWithAcme = async () => {
      const csrfToken = await browser.csrf();
      const start = await browser.post("/signin/acme", { csrfToken, callbackUrl: "http://localhost:3000" });
      const approval = await fetch(start.location!, { redirect: "manual", signal: AbortSignal.timeout(10_000) });
      const callback = new URL(approval.headers.get("location")!);
      return browser.get(`/callback/acme${callback.search}`);
    };
    return { t, browser, signInWithAcme };
  }

  it("success: one sign-in:oauth record with the provider's user id and the request", async () => {
    const { t, browser, signInWithAcme } = await oauthApp();
    const r = await signInWithAcme();
    expect(r.location).toBe("http://localhost:3000");
    expect((await browser.session())?.user?.email).toBe(OAUTH_USER.email);
    expect(t.events().map((e) => [e.action, e.outcome, e.userId, e.metadata?.provider])).toEqual([["sign-in:oauth", "success", OAUTH_USER.sub, "acme"]]);
    expectRequestContext(t.records()[0]!.attributes);
  });

  it("the signIn callback refuses with a URL: sign-in:oauth, failure, AccessDenied", async () => {
    const { t, browser, signInWithAcme } = await oauthApp(() => "/members-only");
    const r = await signInWithAcme();
    expect(r.location).toContain("/members-only");
    expect(await browser.session()).toBeNull();
    expect(t.events().map((e) => [e.action, e.outcome, e.error, e.userId ?? null, e.metadata?.provider])).toEqual([["sign-in:oauth", "failure", "AccessDenied", null, "acme"]]);
    expectRequestContext(t.records()[0]!.attributes);
  });
});
