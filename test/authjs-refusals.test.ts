import { Auth, raw, skipCSRFCheck, type AuthConfig } from "@auth/core";
import { AuthError, CredentialsSignin } from "@auth/core/errors";
import Credentials from "@auth/core/providers/credentials";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BruteForceDetector, type BruteForceSignal } from "otel-auth-audit";
import { auditHandler, auditHandlers, withAudit, type WithAuditOptions } from "otel-auth-audit/authjs";
import { createTestAudit, type TestAudit } from "otel-auth-audit/testing";
import { userHashOf } from "../src/better-auth/user-hash.js";
import { isKnownErrorCode } from "../src/authjs/error-codes.js";
import { BASE_URL, CLIENT_IP, USER_AGENT, webClient } from "./helpers/authjs-client.js";
import { OAUTH_USER, startOAuthServer } from "./helpers/oauth-server.js";

const SECRET = "authjs-refusals-secret-0123456789abcdefghijklmnop";
const PASSWORD = "correct-horse-refusals-5";
const EMAIL = "victim.account@example.com";

type Authorize = (credentials: Partial<Record<string, unknown>>) => unknown;
type SignInCallback = NonNullable<NonNullable<AuthConfig["callbacks"]>["signIn"]>;

/** A v5 app (Credentials, JWT) whose authorize and signIn callback each test chooses; records unredacted, to see what the adapter itself writes. */
function app(opts: { authorize?: Authorize; signIn?: SignInCallback; audit?: Omit<WithAuditOptions, "loggerProvider">; t?: TestAudit } = {}) {
  const t = opts.t ?? createTestAudit({ redaction: false });
  const raw: unknown[] = [];
  const config = withAudit(
    {
      basePath: "/auth",
      secret: SECRET,
      trustHost: true,
      session: { strategy: "jwt" },
      logger: { error: () => {} },
      providers: [
        Credentials({
          credentials: { email: {}, password: {} },
          authorize: async (c) => (opts.authorize ? opts.authorize(c) : c.password === PASSWORD ? { id: "user-1", email: String(c.email) } : null) as never,
        }),
      ],
      callbacks: opts.signIn ? { signIn: opts.signIn } : {},
    } satisfies AuthConfig,
    {
      loggerProvider: t.provider,
      trustedProxies: ["private"],
      // what the adapter hands the pipeline, before any processor
      beforeLog: (event) => void raw.push(event),
      ...opts.audit,
    },
  );
  const handler = auditHandler((request: Request) => Auth(request, config), config);
  return { t, raw, config, handler, browser: webClient(handler) };
}

const everything = (t: TestAudit, raw: unknown[]) =>
  JSON.stringify([raw, t.records().map((r) => ({ body: r.body, attributes: r.attributes, eventName: r.eventName }))]);

/** POSTs to an Auth.js route without a CSRF token, as a forged or scripted request would. */
async function postWithoutCsrf(config: AuthConfig, path: string) {
  return Auth(new Request(`${BASE_URL}/auth/${path}`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "" }), config);
}

describe("Auth.js v5: error.type is a bounded code, never app text", () => {
  it("property: whatever authorize or the signIn callback throws, e-mail and password canaries appear in no record", async () => {
    const canary = fc.record({
      email: fc.emailAddress().filter((e) => e.length > 8),
      password: fc.stringMatching(/^[A-Za-z0-9]{12}$/).map((s) => `pw-${s}`),
      shape: fc.constantFrom("error", "credentials-code", "auth-type", "callback-throws", "callback-authtype"),
      pattern: fc.constantFrom(
        (e: string, p: string) => `No user found with email ${e}`,
        (e: string, p: string) => `Wrong password ${p} for ${e}`,
        (e: string, p: string) => `${e}`,
        (e: string, p: string) => `CredentialsSignin ${e} ${p}`,
      ),
    });
    await fc.assert(
      fc.asyncProperty(canary, async ({ email, password, shape, pattern }) => {
        const text = pattern(email, password);
        const thrown = (): Error => {
          if (shape === "credentials-code") return Object.assign(new CredentialsSignin(), { code: text });
          if (shape === "auth-type" || shape === "callback-authtype") {
            class AppError extends AuthError {
              static type = text;
            }
            return new AppError(text);
          }
          return new Error(text);
        };
        const throwsInCallback = shape.startsWith("callback");
        const { t, raw, browser } = app({
          authorize: (c) => {
            if (!throwsInCallback) throw thrown();
            return { id: "user-1", email: String(c.email) };
          },
          signIn: () => {
            throw thrown();
          },
        });
        const r = await browser.signIn("credentials", { email, password });
        expect(r.location).toContain("error=");
        const records = t.records();
        expect(records).toHaveLength(1);
        const type = records[0]!.attributes["error.type"];
        expect(isKnownErrorCode(type)).toBe(true);
        const all = everything(t, raw);
        expect(all).not.toContain(email);
        expect(all.toLowerCase()).not.toContain(email.toLowerCase());
        expect(all).not.toContain(password);
      }),
      { numRuns: 20 },
    );
  });
});

describe("Auth.js v5: a signIn callback's refusal is a failed sign-in", () => {
  for (const [name, answer] of [
    ["returns a URL", "/unauthorized"],
    ["returns false", false],
  ] as const) {
    it(`the callback ${name}: sign-in:credentials, failure, AccessDenied, with user.hash`, async () => {
      const { t, raw, browser } = app({ signIn: () => answer });
      const r = await browser.signIn("credentials", { email: EMAIL, password: PASSWORD });
      expect(await browser.session()).toBeNull();
      if (typeof answer === "string") expect(r.location).toBe(`${BASE_URL}/unauthorized`);
      expect(t.records()).toHaveLength(1);
      const record = t.find({ action: "sign-in:credentials" })!;
      expect(record.attributes).toMatchObject({
        "audit.outcome": "failure",
        "error.type": "AccessDenied",
        "audit.severity": "high",
        "client.address": CLIENT_IP,
        "user_agent.original": USER_AGENT,
        "audit.metadata.provider": "credentials",
        "user.hash": userHashOf({ email: EMAIL }, SECRET, {}),
      });
      expect(record.attributes["user.id"]).toBeUndefined();
      expect(everything(t, raw)).not.toContain(EMAIL);
    });
  }
});

describe("Auth.js v5: failures carry the account key, and the detector sees accounts", () => {
  it("12 wrong passwords for one account from one IP raise one account_ip signal; the e-mail appears nowhere", async () => {
    const t = createTestAudit({ redaction: false });
    const signals: BruteForceSignal[] = [];
    // ip and account windows stay out of the way: this is about the account+IP key
    new BruteForceDetector({ ip: false, account: false, onSuspected: (s) => void signals.push(s) }).attach(t.audit);
    const { raw, browser } = app({ t, audit: { logger: t.audit } });
    for (let i = 0; i < 12; i++) {
      const r = await browser.signIn("credentials", { email: EMAIL, password: `wrong-${i}` });
      expect(r.location).toContain("error=CredentialsSignin");
    }
    const failures = t.findAll({ action: "sign-in:credentials", outcome: "failure" });
    expect(failures).toHaveLength(12);
    const hash = userHashOf({ email: EMAIL }, SECRET, {});
    for (const f of failures) expect(f.attributes).toMatchObject({ "user.hash": hash, "client.address": CLIENT_IP, "error.type": "CredentialsSignin" });

    expect(signals).toHaveLength(1);
    expect(signals[0]).toMatchObject({ kind: "account_ip", account: hash, ipAddress: CLIENT_IP, count: 11 });
    const suspected = t.findAll({ action: "brute-force:suspected" });
    expect(suspected).toHaveLength(1);
    expect(suspected[0]!.attributes["user.hash"]).toBe(hash);
    expect(everything(t, raw)).not.toContain(EMAIL);
    expect(JSON.stringify(signals)).not.toContain(EMAIL);
  });

  it("the key: userHash.key wins over the Auth.js secret; userHash: false records none", async () => {
    const keyed = app({ audit: { userHash: { key: "a-separate-user-hash-key-0123456789" } } });
    await keyed.browser.signIn("credentials", { email: EMAIL, password: "wrong" });
    expect(keyed.t.records()[0]!.attributes["user.hash"]).toBe(userHashOf({ email: EMAIL }, "a-separate-user-hash-key-0123456789", {}));

    const off = app({ audit: { userHash: false } });
    await off.browser.signIn("credentials", { email: EMAIL, password: "wrong" });
    expect(off.t.records()[0]!.attributes["user.hash"]).toBeUndefined();
  });

  it("userHash.fields names the identifier of a custom Credentials form", async () => {
    const { t, browser } = app({ audit: { userHash: { fields: ["account"] } } });
    await browser.signIn("credentials", { account: "Member-42", password: "wrong" });
    expect(t.records()[0]!.attributes["user.hash"]).toBe(userHashOf({ email: "member-42" }, SECRET, {}));
  });
});

describe("Auth.js v5: withAudit alone records less, never something false", () => {
  it("POSTs to sign-out and session without a CSRF token are no failed sign-ins", async () => {
    const { t, config } = app();
    expect((await postWithoutCsrf(config, "signout")).status).toBe(302);
    expect((await postWithoutCsrf(config, "session")).status).toBe(400);
    expect(t.records()).toHaveLength(0);
  });

  it("the same POSTs through auditHandler record nothing either", async () => {
    const { t, handler } = app();
    await handler(new Request(`${BASE_URL}/auth/signout`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "" }));
    await handler(new Request(`${BASE_URL}/auth/session`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }));
    expect(t.records()).toHaveLength(0);
  });

  it("a wrong password and a refusal keep their provider-specific action names, without request context", async () => {
    const { t, config } = app({ signIn: ({ user }) => user?.email !== "blocked@example.com" });
    const direct = webClient((request) => Auth(request, config));
    await direct.signIn("credentials", { email: EMAIL, password: "wrong" });
    await direct.signIn("credentials", { email: "blocked@example.com", password: PASSWORD });
    expect(t.events().map((e) => [e.action, e.outcome, e.error, e.ipAddress])).toEqual([
      ["sign-in:credentials", "failure", "CredentialsSignin", undefined],
      ["sign-in:credentials", "failure", "AccessDenied", undefined],
    ]);
  });
});

describe("Auth.js v5: App Router — auditHandlers, lazy config, server actions", () => {
  it("auditHandlers wraps { GET, POST } once; the config is found through the request", async () => {
    const { t, config } = app();
    const httpHandler = (request: Request) => Auth(request, config);
    const { GET, POST } = auditHandlers({ GET: httpHandler, POST: httpHandler });
    const browser = webClient((request) => (request.method === "GET" ? GET(request) : POST(request)));
    await browser.signIn("credentials", { email: EMAIL, password: "wrong" });
    await browser.signIn("credentials", { email: EMAIL, password: PASSWORD });
    expect(t.events().map((e) => [e.action, e.outcome, e.ipAddress, e.path])).toEqual([
      ["sign-in:credentials", "failure", CLIENT_IP, "/auth/callback/credentials"],
      ["sign-in:credentials", "success", CLIENT_IP, "/auth/callback/credentials"],
    ]);
  });

  it("a lazy config (NextAuth((req) => config)): each request's records carry that request, without a wrapped handler", async () => {
    const t = createTestAudit();
    const seen: Array<Request | undefined> = [];
    const lazy = withAudit(
      (request: Request | undefined) => {
        seen.push(request);
        return {
          basePath: "/auth",
          secret: SECRET,
          trustHost: true,
          providers: [Credentials({ credentials: { email: {}, password: {} }, authorize: async (c) => (c.password === PASSWORD ? { id: "user-1" } : null) })],
          callbacks: { signIn: ({ user }) => (user.id === "user-1" ? true : "/nope") },
        } satisfies AuthConfig;
      },
      { loggerProvider: t.provider, trustedProxies: 1 },
    );
    // what next-auth 5 does with a function config: `Auth(req, await config(req))` per request
    const httpHandler = async (request: Request) => Auth(request, await lazy(request));
    const alice = webClient(httpHandler, "/auth", { forwardedFor: "198.51.100.1" });
    const bob = webClient(httpHandler, "/auth", { forwardedFor: "198.51.100.2" });
    await Promise.all([alice.signIn("credentials", { email: "a@example.com", password: PASSWORD }), bob.signIn("credentials", { email: "b@example.com", password: "wrong" })]);
    expect(seen.every((r) => r instanceof Request)).toBe(true);
    const byOutcome = Object.fromEntries(t.events().map((e) => [e.outcome, e.ipAddress]));
    expect(byOutcome).toEqual({ success: "198.51.100.1", failure: "198.51.100.2" });
  });

  it("a server action's signIn(): the headers option (Next.js headers()) gives the record its IP and user agent", async () => {
    const t = createTestAudit();
    const actionHeaders = new Headers({ "x-forwarded-for": "192.0.2.77", "user-agent": "server-action-browser/1.0" });
    const config = withAudit(
      {
        basePath: "/auth",
        secret: SECRET,
        trustHost: true,
        providers: [Credentials({ credentials: { email: {}, password: {} }, authorize: async () => null })],
        logger: { error: () => {} },
      } satisfies AuthConfig,
      { loggerProvider: t.provider, trustedProxies: 1, headers: async () => actionHeaders },
    );
    // next-auth 5's signIn() server action: a Request built in process, Auth(..., { ...config, raw, skipCSRFCheck })
    const request = new Request(`${BASE_URL}/auth/callback/credentials`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ email: EMAIL, password: "wrong" }).toString(),
    });
    await Auth(request, { ...config, raw, skipCSRFCheck }).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 10));
    const record = t.find({ action: "sign-in:credentials", outcome: "failure" })!;
    expect(record.attributes).toMatchObject({ "client.address": "192.0.2.77", "user_agent.original": "server-action-browser/1.0", "error.type": "CredentialsSignin" });
    expect(record.attributes["user.hash"]).toBe(userHashOf({ email: EMAIL }, SECRET, {}));
  });
});

describe("Auth.js v5: the headers option outside a request", () => {
  for (const [name, headers] of [
    ["throws (Next.js outside a request scope)", () => {
      throw new Error("`headers` was called outside a request scope");
    }],
    ["rejects", async () => Promise.reject(new Error("no request"))],
  ] as const) {
    it(`headers() ${name}: the record is still emitted, without request context`, async () => {
      const { t, config } = app({ audit: { headers } });
      await webClient((request) => Auth(request, config)).signIn("credentials", { email: EMAIL, password: "wrong" });
      await new Promise((resolve) => setTimeout(resolve, 10));
      const record = t.find({ action: "sign-in:credentials", outcome: "failure" })!;
      expect(record.attributes["client.address"]).toBeUndefined();
      expect(record.attributes["user.hash"]).toBe(userHashOf({ email: EMAIL }, SECRET, {}));
    });
  }
});

describe("Auth.js v5: OAuth callback failures and severity", () => {
  it("a forged OAuth callback (no PKCE cookie): sign-in:oauth, InvalidCheck, with request context", async () => {
    const t = createTestAudit();
    const config = withAudit(
      {
        basePath: "/auth",
        secret: SECRET,
        trustHost: true,
        logger: { error: () => {} },
        providers: [
          {
            id: "acme",
            name: "Acme",
            type: "oauth",
            authorization: "http://127.0.0.1:9/authorize",
            token: "http://127.0.0.1:9/token",
            userinfo: "http://127.0.0.1:9/userinfo",
            clientId: "acme-client",
            clientSecret: "acme-secret",
          },
        ],
      } satisfies AuthConfig,
      { loggerProvider: t.provider, trustedProxies: ["private"] },
    );
    const browser = webClient(auditHandler((request: Request) => Auth(request, config), config));
    const r = await browser.get("/callback/acme?code=stolen-code&state=forged");
    expect(r.location).toContain("error=");
    expect(t.records()).toHaveLength(1);
    const record = t.find({ action: "sign-in:oauth" })!;
    expect(record.attributes).toMatchObject({
      "audit.outcome": "failure",
      "error.type": "InvalidCheck",
      "audit.metadata.provider": "acme",
      "client.address": CLIENT_IP,
      "url.path": "/auth/callback/acme",
    });
    expect(JSON.stringify(record.attributes)).not.toContain("stolen-code");
  });

  it("severity: a sign-in is medium → SeverityNumber INFO2 (10), severityText INFO; a failure high → WARN (13)", async () => {
    const { t, browser } = app();
    await browser.signIn("credentials", { email: EMAIL, password: PASSWORD });
    await browser.signIn("credentials", { email: EMAIL, password: "wrong" });
    const [ok, failed] = t.records();
    expect([ok!.attributes["audit.severity"], ok!.severityNumber, ok!.severityText]).toEqual(["medium", 10, "INFO"]);
    expect([failed!.attributes["audit.severity"], failed!.severityNumber, failed!.severityText]).toEqual(["high", 13, "WARN"]);
  });
});

describe("Auth.js v5: a real OAuth 2.0 flow (PKCE, token exchange, userinfo) on loopback", () => {
  async function oauthApp(signIn?: SignInCallback) {
    const provider = await startOAuthServer();
    const t = createTestAudit();
    const config = withAudit(
      {
        basePath: "/auth",
        secret: SECRET,
        trustHost: true,
        session: { strategy: "jwt" },
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
            profile: (p: typeof OAUTH_USER) => ({ id: p.sub, email: p.email, name: p.name }),
          },
        ],
        callbacks: signIn ? { signIn } : {},
      } satisfies AuthConfig,
      { loggerProvider: t.provider, trustedProxies: ["private"] },
    );
    const browser = webClient(auditHandler((request: Request) => Auth(request, config), config));
    /** Starts the sign-in, follows the provider's approval, lands on the callback. */
    const signInWithAcme = async () => {
      const csrfToken = await browser.csrf();
      const start = await browser.post("/signin/acme", { csrfToken, callbackUrl: BASE_URL });
      const approval = await fetch(start.location!, { redirect: "manual", signal: AbortSignal.timeout(10_000) });
      const callback = new URL(approval.headers.get("location")!);
      return browser.get(`/callback/acme${callback.search}`);
    };
    return { t, browser, provider, signInWithAcme };
  }

  it("a successful OAuth sign-in: one sign-in:oauth record with the user and the request", async () => {
    const { t, browser, provider, signInWithAcme } = await oauthApp();
    try {
      const r = await signInWithAcme();
      expect(r.location).toBe(BASE_URL);
      expect((await browser.session())?.user?.email).toBe(OAUTH_USER.email);
      expect(t.events().map((e) => [e.action, e.outcome, e.userId, e.ipAddress, e.path])).toEqual([
        // without an adapter, v5 gives a JWT user a fresh id
        ["sign-in:oauth", "success", expect.any(String), CLIENT_IP, "/auth/callback/acme"],
      ]);
    } finally {
      await provider.close();
    }
  });

  it("the signIn callback refuses the OAuth user with a URL: sign-in:oauth, failure, AccessDenied", async () => {
    const { t, browser, provider, signInWithAcme } = await oauthApp(() => "/members-only");
    try {
      const r = await signInWithAcme();
      expect(r.location).toBe(`${BASE_URL}/members-only`);
      expect(await browser.session()).toBeNull();
      expect(t.events().map((e) => [e.action, e.outcome, e.error, e.userId ?? null, e.ipAddress, e.metadata?.provider])).toEqual([
        ["sign-in:oauth", "failure", "AccessDenied", null, CLIENT_IP, "acme"],
      ]);
    } finally {
      await provider.close();
    }
  });
});

describe("Auth.js v5: interleaved requests", () => {
  it("20 concurrent sign-ins, refusals and failures from 20 clients: each record carries its own request", async () => {
    const { t, handler } = app({ signIn: ({ user }) => (user?.email?.startsWith("refused") ? "/no" : true) });
    const kinds = ["ok", "wrong", "refused", "ok"] as const;
    const rs = await Promise.all(
      Array.from({ length: 20 }, (_, i) => {
        const kind = kinds[i % kinds.length]!;
        const browser = webClient(handler, "/auth", { forwardedFor: `198.51.100.${i + 1}, 10.0.0.1`, userAgent: `client-${i}` });
        const email = `${kind === "refused" ? "refused" : "user"}-${i}@example.com`;
        return browser.signIn("credentials", { email, password: kind === "wrong" ? "nope" : PASSWORD });
      }),
    );
    expect(rs.map((r) => r.status)).toEqual(Array(20).fill(302));
    const events = t.events();
    expect(events).toHaveLength(20);
    for (const e of events) {
      const i = Number(e.userAgent!.slice("client-".length));
      expect(e.ipAddress).toBe(`198.51.100.${i + 1}`);
      const kind = kinds[i % kinds.length];
      expect([e.outcome, e.error]).toEqual(kind === "ok" ? ["success", undefined] : ["failure", kind === "wrong" ? "CredentialsSignin" : "AccessDenied"]);
      if (kind !== "ok") expect(e.userHash).toBe(userHashOf({ email: `${kind === "refused" ? "refused" : "user"}-${i}@example.com` }, SECRET, {}));
    }
  });
});
