/**
 * Secret canaries in every string field of every better-auth endpoint's request body, with
 * `capture.requestBody` on: none of them may appear in the exported OTLP JSON.
 */
import { JsonLogsSerializer } from "@opentelemetry/otlp-transformer";
import { admin, emailOTP, magicLink, organization, phoneNumber, twoFactor, username } from "better-auth/plugins";
import { describe, expect, it } from "vitest";
import { auditLog } from "otel-auth-audit/better-auth";
import { createTestAudit } from "otel-auth-audit/testing";
import { createAuthApp } from "./helpers/auth-app.js";
import { acmeOAuth } from "./helpers/oauth.js";

/** Secrets as they leak: each found by a value pattern, whatever the field's name. */
const CANARY_KINDS = [
  (n: number) => `eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjYW5hcnk${n}In0.c2lnbmF0dXJlLWNhbmFyeS0${n}`, // JWT
  (n: number) => `Bearer tok_${n}9f8e7d6c5b4a39281706f5e4d3c2b1a0`, // bearer credential
  (n: number) => `${n}a1b2c3d4e5f60718293a4b5c6d7e8f9012345678`.slice(0, 40), // long hex secret
  (n: number) => `sk_live_${n}AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCd`, // long base64-ish key
  (n: number) => `canary${n}@secret-mail.example`, // an address
  () => "4242424242424242", // a card number (Luhn-valid)
];
const canaryFor = (n: number) => CANARY_KINDS[n % CANARY_KINDS.length](n);

interface EndpointLike {
  path?: string;
  options?: { method?: string | string[]; body?: { shape?: Record<string, unknown> } };
}

describe("secret canaries through every better-auth endpoint", () => {
  it("never reach the exported OTLP JSON", async () => {
    const t = createTestAudit();
    const noop = async () => {};
    const app = await createAuthApp({
      user: { deleteUser: { enabled: true }, changeEmail: { enabled: true } },
      plugins: [
        auditLog({ loggerProvider: t.provider, capture: { requestBody: true } }),
        admin(),
        twoFactor({ otpOptions: { sendOTP: noop } }),
        username(),
        emailOTP({ sendVerificationOTP: noop }),
        magicLink({ sendMagicLink: noop }),
        phoneNumber({ sendOTP: noop }),
        organization(),
        acmeOAuth(),
      ],
    });
    const signUp = await app.post("/sign-up/email", { email: "owner@example.com", password: "owner-password-1", name: "Owner" });
    const cookie = signUp.cookie!;

    const canaries: string[] = [];
    const endpoints = Object.values(app.auth.api as Record<string, EndpointLike>).filter((e) => {
      const method = e.options?.method;
      return typeof e.path === "string" && !e.path.includes(":") && (method === "POST" || (Array.isArray(method) && method.includes("POST")));
    });
    let n = 0;
    for (const endpoint of endpoints) {
      const fields = Object.keys(endpoint.options?.body?.shape ?? {});
      const body: Record<string, unknown> = {};
      for (const field of [...fields, "note", "nested"]) {
        const canary = canaryFor(n++);
        canaries.push(canary);
        body[field] = field === "nested" ? { deeper: { value: canary } } : canary;
      }
      await app.post(endpoint.path!, body, endpoint.path === "/sign-out" || endpoint.path === "/delete-user" ? undefined : cookie);
    }

    const records = t.records();
    expect(endpoints.length).toBeGreaterThan(40);
    expect(records.length).toBeGreaterThan(40);
    // the bodies were captured: the record of each endpoint holds its (redacted) request body
    expect(records.some((r) => Object.keys(r.attributes).some((k) => k.startsWith("audit.metadata.requestBody.")))).toBe(true);
    const exported = new TextDecoder().decode(JsonLogsSerializer.serializeRequest(records));
    const leaked = canaries.filter((c) => exported.includes(c) || exported.includes(JSON.stringify(c).slice(1, -1)));
    // on failure, where each leaked (the first one found was a refused admin call's body.userId in `user.id`)
    const where = leaked.map((c) => exported.slice(Math.max(0, exported.indexOf(c) - 120), exported.indexOf(c)));
    expect(leaked, where.join("\n")).toEqual([]);
  });
});
