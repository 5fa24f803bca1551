/**
 * The attributes redaction used to pass unread (`error.type`, `http.request.method`, `user.id`,
 * `user.hash`, `session.id`, `audit.actor.id`, `client.address`) are still fields a caller fills:
 * `audit.record()`, a beforeLog, an adapter handed app text. A secret put in any of them, in any
 * encoding, must not leave; a genuine id, address, method or error code must stay as it is.
 */
import { JsonLogsSerializer } from "@opentelemetry/otlp-transformer";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RedactionProcessor } from "otel-auth-audit";
import { createTestAudit } from "otel-auth-audit/testing";
import { BACKENDS } from "../helpers/store-app.js";
import { adversarialApp, leaks } from "./harness.js";

const exported = (t: ReturnType<typeof createTestAudit>) => new TextDecoder().decode(JsonLogsSerializer.serializeRequest(t.records()));

const FIELDS = ["error", "method", "userId", "userHash", "sessionId", "actorId", "ipAddress"] as const;
const secret = fc.stringMatching(/^[a-z]{10,16}$/).map((s) => `sec${s}ret`);
/** Ways an app or a caller hands a secret over in a short field. */
const CARRIERS: Array<(s: string) => string> = [
  (s) => `${s}@example.com`,
  (s) => `No user found with email ${s}@example.com`,
  (s) => `password=${s}`,
  (s) => `https://app.example/cb?token=${s}`,
  (s) => `Bearer ${s}${s}`,
  (s) => `eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.${s}`,
  (s) => JSON.stringify({ otp: s }),
  (s) => `${s}%40example.com`,
  (s) => `${s}＠example.com`,
];

describe("structural attributes", () => {
  it("a secret in any caller-filled structural field never leaves (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...FIELDS), fc.constantFrom(...CARRIERS), secret, async (field, carry, s) => {
        const t = createTestAudit();
        await t.audit.record({ action: "custom:thing", outcome: "failure", [field]: carry(s) });
        const text = exported(t);
        expect(text, `${field} = ${carry(s)}`).not.toContain(s);
      }),
      { numRuns: 150 },
    );
  });

  it("error.type is a code or UNRECOGNISED_ERROR, the method a method or _OTHER; the text is in the redacted body", async () => {
    const t = createTestAudit();
    await t.audit.record({ action: "x", outcome: "failure", error: "No user found with email bob@example.com", method: "GET /?token=abc" });
    const r = t.records()[0]!;
    expect(r.attributes["error.type"]).toBe("UNRECOGNISED_ERROR");
    expect(r.attributes["http.request.method"]).toBe("_OTHER");
    expect(String(r.body)).toContain("No user found with email");
    expect(String(r.body)).not.toContain("bob@example.com");
  });

  it("genuine ids, hashes, addresses, methods and codes stay unchanged", async () => {
    const hex = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    const t = createTestAudit();
    const kept = { userId: "usr_2xK9fQ0aZbYc", userHash: hex, sessionId: "c5f1e1c2-7f53-4c5e-9a41-0b8f6f3d2a11", actorId: "000123.4f9e2c.1234", ipAddress: "203.0.113.7", method: "POST", error: "INVALID_EMAIL_OR_PASSWORD" };
    await t.audit.record({ action: "x", outcome: "failure", ...kept });
    expect(t.records()[0]!.attributes).toEqual(
      expect.objectContaining({ "user.id": kept.userId, "user.hash": hex, "session.id": kept.sessionId, "audit.actor.id": kept.actorId, "client.address": kept.ipAddress, "http.request.method": "POST", "error.type": kept.error }),
    );
  });

  it("a record that fails closed does not keep an unshaped structural value either", async () => {
    const t = createTestAudit({ processors: [new RedactionProcessor({ limits: { maxTotalLength: 10 } })] });
    await t.audit.record({ action: "x", outcome: "failure", userAgent: "a".repeat(100), userId: "carol@example.com", error: "bad token=zzzzzzzz" });
    const r = t.records()[0]!;
    expect(r.attributes["audit.redaction.failed"]).toBe("size");
    expect(exported(t)).not.toMatch(/carol|zzzzzzzz/);
  });
});

describe("structural attributes, exported and stored by the better-auth plugin", () => {
  for (const backend of BACKENDS) {
    it(`${backend}: a secret in audit.record()'s structural fields is neither exported nor stored`, async () => {
      const app = await adversarialApp(backend);
      const canaries: string[] = [];
      const fields = { error: "No user found with email %s@example.com", method: "token=%s", userId: "%s@example.com", sessionId: "Bearer %s%s", actorId: "password=%s", ipAddress: "%s＠example.com", userHash: "https://x.example/?code=%s" };
      for (const [field, shape] of Object.entries(fields)) {
        const canary = `canary${field}${canaries.length}zq`;
        canaries.push(canary);
        await app.plugin.audit.logger.record({ action: "admin:user-export", outcome: "failure", [field]: shape.replaceAll("%s", canary) });
      }
      expect(leaks(app.exported(), canaries)).toEqual([]);
      expect(leaks(await app.stored(), canaries)).toEqual([]);
    });
  }
});

describe("headers a client sends, through auth.handler", () => {
  it("secrets in x-forwarded-for, authorization, cookie, x-api-key and the user agent of a failed sign-in never leave; sign-in still answers", async () => {
    const app = await adversarialApp("memory");
    const canaries = ["canaryxff1zq", "canaryauth2zq", "canarycookie3zq", "canaryapikey4zq", "canaryua5zq"];
    const r = await app.post("/sign-in/email", { email: "nobody@example.com", password: "wrong-password-1" }, `better-auth.session_token=${canaries[2]}`, {
      "x-forwarded-for": `${canaries[0]}@example.com, 203.0.113.9`,
      authorization: `Bearer ${canaries[1]}${canaries[1]}`,
      "x-api-key": canaries[3],
      "user-agent": `Mozilla/5.0 {"token":"${canaries[4]}"} ${canaries[4]}@example.com`,
    });
    expect(r.status).toBe(401);
    expect(app.t.records().length).toBeGreaterThan(0);
    expect(leaks(app.exported(), canaries)).toEqual([]);
    expect(leaks(await app.stored(), canaries)).toEqual([]);
    expect(leaks(app.exported(), ["nobody@example.com"])).toEqual([]);
  });
});
