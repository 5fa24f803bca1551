import { Auth, type AuthConfig } from "@auth/core";
import { describe, expect, it } from "vitest";
import { auditHandler, withAudit } from "otel-auth-audit/authjs";
import { createTestAudit, type TestAudit } from "otel-auth-audit/testing";
import { userHashOf } from "../src/better-auth/user-hash.js";
import { CLIENT_IP, webClient } from "./helpers/authjs-client.js";

// A file of its own: @auth/core remembers in module state that an e-mail provider was configured
// and from then on asks every config for an adapter.
const SECRET = "authjs-email-secret-0123456789abcdefghijklmnop";
const EMAIL = "victim.account@example.com";

const everything = (t: TestAudit, raw: unknown[]) =>
  JSON.stringify([raw, t.records().map((r) => ({ body: r.body, attributes: r.attributes, eventName: r.eventName }))]);

describe("Auth.js v5: e-mail sign-in failures carry the address's hash", () => {
  function mailApp(send: () => Promise<void>) {
    const t = createTestAudit({ redaction: false });
    const raw: unknown[] = [];
    const config = withAudit(
      {
        basePath: "/auth",
        secret: SECRET,
        trustHost: true,
        logger: { error: () => {} },
        // the e-mail provider needs verification tokens; none is ever valid here
        adapter: { getUserByEmail: async () => null, createVerificationToken: async (token) => token, useVerificationToken: async () => null } as AuthConfig["adapter"],
        providers: [{ id: "mail", type: "email", name: "Mail", from: "auth@example.com", maxAge: 600, sendVerificationRequest: send, options: {} } as never],
      } satisfies AuthConfig,
      { loggerProvider: t.provider, trustedProxies: ["private"], beforeLog: (event) => void raw.push(event) },
    );
    return { t, raw, browser: webClient(auditHandler((request: Request) => Auth(request, config), config)) };
  }

  it("sendVerificationRequest throws (SMTP down): sign-in:email, EmailSignInError, user.hash; the address nowhere", async () => {
    const { t, raw, browser } = mailApp(async () => {
      // as a real SMTP client fails: later. (@auth/core awaits a hash before it attaches to this
      // promise, so an immediate rejection is reported as unhandled by Node — with or without us.)
      await new Promise((resolve) => setTimeout(resolve, 20));
      throw new Error(`SMTP refused ${EMAIL}`);
    });
    const csrfToken = await browser.csrf();
    await browser.post("/signin/mail", { email: EMAIL, csrfToken });
    expect(t.events().map((e) => [e.action, e.outcome, e.error, e.userHash, e.ipAddress])).toEqual([
      ["sign-in:email", "failure", "EmailSignInError", userHashOf({ email: EMAIL }, SECRET, {}), CLIENT_IP],
    ]);
    expect(everything(t, raw)).not.toContain(EMAIL);
  });

  it("a wrong or expired link: sign-in:email, Verification, with the hash of the link's address", async () => {
    const { t, raw, browser } = mailApp(async () => {});
    const r = await browser.get(`/callback/mail?token=not-a-token&email=${encodeURIComponent(EMAIL)}`);
    expect(r.location).toContain("error=Verification");
    expect(t.events().map((e) => [e.action, e.outcome, e.error, e.userHash])).toEqual([
      ["sign-in:email", "failure", "Verification", userHashOf({ email: EMAIL }, SECRET, {})],
    ]);
    expect(everything(t, raw)).not.toContain(EMAIL);
    expect(everything(t, raw)).not.toContain("not-a-token");
  });
});

