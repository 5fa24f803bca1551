/**
 * Every better-auth endpoint through `auth.handler`, with generated hostile input: secrets in
 * every field and every encoding, hostile keys, deep nesting, huge strings, unicode variants, in
 * the body and in the User-Agent, with `capture.requestBody` on. Invariants: no canary in any
 * exported byte or stored row, Object.prototype unchanged, no 5xx that the same app without the
 * plugin does not also answer, and the process alive.
 */
import fc from "fast-check";
import { admin, emailOTP, magicLink, organization, phoneNumber, twoFactor, username } from "better-auth/plugins";
import { describe, expect, it } from "vitest";
import { auditLog } from "otel-auth-audit/better-auth";
import { createTestAudit } from "otel-auth-audit/testing";
import { JsonLogsSerializer } from "@opentelemetry/otlp-transformer";
import { createAuthApp } from "../helpers/auth-app.js";
import { acmeOAuth } from "../helpers/oauth.js";
import { expectPrototypesClean, leaks } from "./harness.js";

interface EndpointLike {
  path?: string;
  options?: { method?: string | string[]; body?: { shape?: Record<string, unknown> } };
}

let n = 0;
/** A fresh secret each time, in a shape or place that makes it a secret: found by a rule, not by luck. */
const secretIn = fc.constantFrom(
  (c: string) => JSON.stringify({ password: c }),
  (c: string) => `  \n${JSON.stringify({ nested: { token: c } })}`,
  (c: string) => JSON.stringify(JSON.stringify({ otp: c })),
  (c: string) => `a=1&client_secret=${c}&b=2`,
  (c: string) => `https://evil.example/cb?code=${c}&state=s`,
  (c: string) => `please use token=${c} now`,
  (c: string) => `${c}@example.com`,
  (c: string) => `${c}%40example.com`,
  (c: string) => `${c}＠example.com`,
  (c: string) => `"${c} q"@example.com`,
  (c: string) => `Bearer ${c}`,
  (c: string) => `eyJhbGciOiJIUzI1NiJ9.eyJ${c}.c2ln`,
);
const HOSTILE_KEYS = ["__proto__", "constructor", "prototype", "__proto__.role", "constructor.prototype.isAdmin", "a..b", "", "ｐａｓｓｗｏｒｄ", "1", "toString"];

/** One hostile value for a field; canaries it contains are collected. */
const hostileValue = (canaries: string[]) =>
  fc.oneof(
    secretIn.map((wrap) => {
      const c = `cnry${(n++).toString(36)}x${Math.random().toString(36).slice(2, 8)}`;
      canaries.push(c);
      return wrap(c);
    }),
    fc.integer({ min: 20, max: 400 }).map((d) => {
      const c = `cnry${(n++).toString(36)}deep`;
      canaries.push(c);
      let v: unknown = { password: c };
      for (let i = 0; i < d; i++) v = [v];
      return v;
    }),
    fc.constant("x".repeat(100_000)),
    fc.constant("a@a.".repeat(5_000)),
    fc.dictionary(fc.constantFrom(...HOSTILE_KEYS), fc.constantFrom("admin", true, 1), { maxKeys: 4 }),
    fc.string({ unit: "grapheme", maxLength: 40 }),
  );

async function build(withAudit: boolean) {
  const t = createTestAudit();
  const noop = async () => {};
  const app = await createAuthApp({
    user: { deleteUser: { enabled: true }, changeEmail: { enabled: true } },
    plugins: [
      ...(withAudit ? [auditLog({ loggerProvider: t.provider, capture: { requestBody: true } })] : []),
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
  return { t, app, cookie: signUp.cookie! };
}

describe("every endpoint, hostile input", () => {
  it("no canary leaves, no prototype changes, no 5xx the plain app would not give", async () => {
    const audited = await build(true);
    const plain = await build(false);
    const endpoints = Object.values(audited.app.auth.api as Record<string, EndpointLike>).filter((e) => {
      const m = e.options?.method;
      return typeof e.path === "string" && !e.path.includes(":") && (m === "POST" || (Array.isArray(m) && m.includes("POST")));
    });
    expect(endpoints.length).toBeGreaterThan(40);
    const canaries: string[] = [];
    const fivexx: string[] = [];
    for (const endpoint of endpoints) {
      const fields = [...Object.keys(endpoint.options?.body?.shape ?? {}), "note"];
      const sessionless = endpoint.path === "/sign-out" || endpoint.path === "/delete-user";
      await fc.assert(
        fc.asyncProperty(fc.tuple(...fields.map(() => hostileValue(canaries))), hostileValue(canaries), async (values, ua) => {
          const body: Record<string, unknown> = {};
          fields.forEach((f, i) => (body[f] = values[i]));
          const userAgent = typeof ua === "string" ? ua.slice(0, 30_000) : JSON.stringify(ua);
          const headers = { "user-agent": userAgent.replace(/[^\t\x20-\x7e]/g, "?") };
          const ours = await audited.app.post(endpoint.path!, body, sessionless ? undefined : audited.cookie, headers);
          if (ours.status >= 500) {
            const theirs = await plain.app.post(endpoint.path!, body, sessionless ? undefined : plain.cookie, headers);
            if (theirs.status < 500) fivexx.push(`${endpoint.path}: ${ours.status} (without the plugin ${theirs.status})`);
          }
        }),
        { numRuns: 3, seed: 12 },
      );
    }
    expect(fivexx).toEqual([]);
    expectPrototypesClean();
    const exported = new TextDecoder().decode(JsonLogsSerializer.serializeRequest(audited.t.records()));
    expect(audited.t.records().length).toBeGreaterThan(40);
    const leaked = leaks(exported, canaries);
    const where = leaked.map((c) => exported.slice(Math.max(0, exported.indexOf(c) - 200), exported.indexOf(c) + 40));
    expect(leaked, where.join("\n---\n")).toEqual([]);
    const stored = JSON.stringify(audited.app.database.prepare("SELECT * FROM auditLog").all());
    expect(leaks(stored, canaries)).toEqual([]);
  }, 120_000);
});
