import { JsonLogsSerializer } from "@opentelemetry/otlp-transformer";
import { ExportResultCode } from "@opentelemetry/core";
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor, type LogRecordExporter } from "@opentelemetry/sdk-logs";
import { describe, expect, it } from "vitest";
import { piiRedactionToOptions } from "../src/processors/redaction.js";
import { RedactionProcessor, type RedactionOptions } from "otel-auth-audit";
import { createTestAudit } from "otel-auth-audit/testing";

const record = async (options: RedactionOptions, metadata: Record<string, unknown>, extra: Partial<Parameters<ReturnType<typeof createTestAudit>["audit"]["record"]>[0]> = {}) => {
  const t = createTestAudit({ processors: [new RedactionProcessor(options)] });
  await t.audit.record({ action: "sign-in:email", outcome: "success", userId: "u1", metadata, ...extra });
  return t.records()[0];
};

const otlpJson = (records: Parameters<typeof JsonLogsSerializer.serializeRequest>[0]) =>
  new TextDecoder().decode(JsonLogsSerializer.serializeRequest(records));

describe("RedactionProcessor: keys", () => {
  it("masks the default secret keys in flattened metadata, whatever their case or separators", async () => {
    const r = await record({}, {
      password: "hunter2",
      body: { newPassword: "n3w", access_token: "at", "Set-Cookie": "sid=1", client_secret: "cs", backupCodes: ["a", "b"] },
      headers: { authorization: "Basic abc", "x-api-key": "k" },
      tokenExpiresAt: 5,
      keyboard: "qwerty",
    });
    expect(r.attributes).toMatchObject({
      "audit.metadata.password": "[REDACTED]",
      "audit.metadata.body.newPassword": "[REDACTED]",
      "audit.metadata.body.access_token": "[REDACTED]",
      "audit.metadata.body.Set-Cookie": "[REDACTED]",
      "audit.metadata.body.client_secret": "[REDACTED]",
      "audit.metadata.body.backupCodes": "[REDACTED]",
      "audit.metadata.headers.authorization": "[REDACTED]",
      "audit.metadata.headers.x-api-key": "[REDACTED]",
      "audit.metadata.tokenExpiresAt": 5,
      "audit.metadata.keyboard": "qwerty",
    });
  });

  it("redacts at any depth of nested attribute maps and of the body", async () => {
    const exporter = new InMemoryLogRecordExporter();
    const provider = new LoggerProvider({ processors: [new RedactionProcessor(), new SimpleLogRecordProcessor({ exporter })] });
    const body = { user: { email: "x", profile: { apiKey: "k1", list: [{ otp: "123456" }] } }, note: "ok" };
    provider.getLogger("otel-auth-audit").emit({ body, attributes: { "http.request.header": { Authorization: ["Bearer t"], accept: ["*/*"] } } });
    const [r] = exporter.getFinishedLogRecords();
    expect(r.body).toEqual({ user: { email: "x", profile: { apiKey: "[REDACTED]", list: [{ otp: "[REDACTED]" }] } }, note: "ok" });
    expect(r.attributes["http.request.header"]).toEqual({ Authorization: "[REDACTED]", accept: ["*/*"] });
    expect(body.user.profile.apiKey).toBe("k1"); // the caller's object is not touched
  });

  it("redacts inside JSON-string values", async () => {
    const r = await record({}, { deep: JSON.stringify({ a: { b: { c: { d: { password: "p", kept: 1 } } } } }) });
    expect(JSON.parse(r.attributes["audit.metadata.deep"] as string)).toEqual({ a: { b: { c: { d: { password: "[REDACTED]", kept: 1 } } } } });
  });

  it("matches dotted rules against the last path segments", async () => {
    const r = await record({ keys: ["profile.phone"] }, { profile: { phone: "+1 555" }, other: { phone: "+1 666" } });
    expect(r.attributes["audit.metadata.profile.phone"]).toBe("[REDACTED]");
    expect(r.attributes["audit.metadata.other.phone"]).toBe("+1 666");
  });

  it("never redacts our own structural attributes by key or pattern", async () => {
    const r = await record({ extraKeys: ["id", "address", "type", "action"] }, { note: "x" }, {
      sessionId: "0123456789abcdef0123456789abcdef", ipAddress: "203.0.113.9", error: "INVALID_CODE",
    });
    expect(r.attributes).toMatchObject({ "user.id": "u1", "session.id": "0123456789abcdef0123456789abcdef", "client.address": "203.0.113.9", "error.type": "INVALID_CODE", "audit.action": "sign-in:email" });
    expect(r.attributes["audit.id"]).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("RedactionProcessor: patterns", () => {
  it.each([
    ["email", "contact jane.doe+x@example.co.uk now", "contact [REDACTED] now"],
    ["bearer", "header Bearer abc.DEF-123_x", "header Bearer [REDACTED]"],
    ["jwt", "t=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-nature_x", "t=[REDACTED]"],
    ["hex", "secret 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 end", "secret [REDACTED] end"],
    ["base64", "k=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1ub3A", "k=[REDACTED]"],
    ["card (Luhn)", "card 4111 1111 1111 1111 paid", "card [REDACTED] paid"],
    ["not a card (Luhn fails)", "order 4111 1111 1111 1112", "order 4111 1111 1111 1112"],
    ["words and paths stay", "/api/auth/sign-in/email-and-some-more-words-here", "/api/auth/sign-in/email-and-some-more-words-here"],
  ])("%s", async (_name, input, output) => {
    const r = await record({}, { note: input });
    expect(r.attributes["audit.metadata.note"]).toBe(output);
  });

  it("applies patterns to url.path and the body; ids keep their shape, an e-mail in an id does not stay", async () => {
    const r = await record({}, {}, { path: "/verify/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abcdefg", userId: "jane@example.com" });
    expect(r.attributes["url.path"]).toBe("/verify/[REDACTED]");
    expect(r.attributes["user.id"]).toBe("[REDACTED]");
    const hex = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    const ids = await record({}, {}, { userId: hex, sessionId: "01J9Z3Q4W5E6R7T8Y9U0I1O2P3", actorId: "c5f1e1c2-7f53-4c5e-9a41-0b8f6f3d2a11", ipAddress: "2001:db8::1", userHash: hex });
    expect(ids.attributes).toEqual(expect.objectContaining({ "user.id": hex, "session.id": "01J9Z3Q4W5E6R7T8Y9U0I1O2P3", "audit.actor.id": "c5f1e1c2-7f53-4c5e-9a41-0b8f6f3d2a11", "client.address": "2001:db8::1", "user.hash": hex }));
  });

  it("takes custom patterns", async () => {
    const r = await record({ extraPatterns: [{ name: "phone", regex: /\+\d{1,3} \d{3}/, strategy: "remove" }] }, { note: "call +1 555 now" });
    expect(r.attributes["audit.metadata.note"]).toBe("call  now");
  });
});

describe("RedactionProcessor: strategies", () => {
  it("hash: HMAC-SHA256 with the key, the same input always the same output", async () => {
    const opts: RedactionOptions = { strategy: "hash", hashKey: "redaction-key" };
    const a = await record(opts, { password: "p", note: "mail jane@example.com" });
    const b = await record(opts, { password: "p", note: "mail jane@example.com" });
    const c = await record({ ...opts, hashKey: "other" }, { password: "p" });
    expect(a.attributes["audit.metadata.password"]).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(a.attributes["audit.metadata.note"]).toMatch(/^mail hmac-sha256:[0-9a-f]{64}$/);
    expect(a.attributes).toEqual(expect.objectContaining({ "audit.metadata.password": b.attributes["audit.metadata.password"], "audit.metadata.note": b.attributes["audit.metadata.note"] }));
    expect(c.attributes["audit.metadata.password"]).not.toBe(a.attributes["audit.metadata.password"]);
  });

  it("hash without a key falls back to plain SHA-256", async () => {
    const r = await record({ strategy: "hash" }, { password: "p" });
    expect(r.attributes["audit.metadata.password"]).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it("emailStrategy hashes emails while secrets stay masked", async () => {
    const r = await record({ emailStrategy: "hash", hashKey: "k" }, { password: "p", note: "jane@example.com" });
    expect(r.attributes["audit.metadata.password"]).toBe("[REDACTED]");
    expect(r.attributes["audit.metadata.note"]).toMatch(/^hmac-sha256:/);
  });

  it("remove deletes attributes for real: absent from the exported OTLP JSON", async () => {
    const t = createTestAudit({ processors: [new RedactionProcessor({ strategy: "remove" })] });
    await t.audit.record({ action: "sign-in:email", outcome: "success", metadata: { password: "hunter2", body: { token: "tok", keep: 1 } } });
    const [r] = t.records();
    expect(Object.keys(r.attributes)).not.toContain("audit.metadata.password");
    expect(Object.keys(r.attributes)).not.toContain("audit.metadata.body.token");
    const json = otlpJson(t.exporter.getFinishedLogRecords());
    expect(json).not.toContain("password");
    expect(json).not.toContain("hunter2");
    expect(json).not.toContain("audit.metadata.body.token");
    expect(json).toContain("audit.metadata.body.keep");
  });

  it("remove gives the attribute slot back (count limit)", async () => {
    const exporter = new InMemoryLogRecordExporter();
    const provider = new LoggerProvider({
      logRecordLimits: { attributeCountLimit: 2 },
      processors: [
        new RedactionProcessor({ strategy: "remove" }),
        { onEmit: (r) => void r.setAttribute("added", 1), forceFlush: async () => {}, shutdown: async () => {} },
        new SimpleLogRecordProcessor({ exporter }),
      ],
    });
    provider.getLogger("otel-auth-audit").emit({ attributes: { password: "p", kept: "k" } });
    expect(exporter.getFinishedLogRecords()[0].attributes).toEqual({ kept: "k", added: 1 });
  });

  it("piiRedactionToOptions maps better-auth-audit-logs' piiRedaction", async () => {
    expect(piiRedactionToOptions({ enabled: false, strategy: "hash", fields: ["email"] })).toEqual({});
    const options = piiRedactionToOptions({ enabled: true, strategy: "remove", fields: ["ipAddress", "phone"] });
    const r = await record(options, { phone: "+1", password: "p", note: "a@b.io" }, { ipAddress: "203.0.113.9" });
    expect(r.attributes["client.address"]).toBeUndefined();
    expect(r.attributes["audit.metadata.phone"]).toBeUndefined();
    // the strategy applies to the default secret keys too (issue #15): removed, not masked
    expect(r.attributes["audit.metadata.password"]).toBeUndefined();
    expect(r.attributes["audit.metadata.note"]).toBe("");
  });
});

describe("processor order", () => {
  // serialises at export time, as the OTLP exporter does before it sends the bytes
  const wireExporter = () => {
    const sent: string[] = [];
    const exporter: LogRecordExporter = {
      export: (records, done) => {
        sent.push(otlpJson(records));
        done({ code: ExportResultCode.SUCCESS });
      },
      forceFlush: async () => {},
      shutdown: async () => {},
    };
    return { sent, exporter };
  };

  it("a Simple exporter placed before the redactor sends the secret; one after it does not", async () => {
    const before = wireExporter();
    const after = wireExporter();
    const t = createTestAudit({
      processors: [new SimpleLogRecordProcessor({ exporter: before.exporter }), new RedactionProcessor(), new SimpleLogRecordProcessor({ exporter: after.exporter })],
    });
    await t.audit.record({ action: "sign-in:email", outcome: "failure", metadata: { password: "hunter2" } });
    expect(before.sent.join()).toContain("hunter2");
    expect(after.sent.join()).not.toContain("hunter2");
    expect(after.sent.join()).toContain("[REDACTED]");
  });
});

describe("scopes", () => {
  it("ordinary app logs pass untouched unless scopes say otherwise", () => {
    const exporter = new InMemoryLogRecordExporter();
    const provider = new LoggerProvider({ processors: [new RedactionProcessor(), new SimpleLogRecordProcessor({ exporter })] });
    provider.getLogger("my-app").emit({ body: "login a@b.io", attributes: { password: "p" } });
    const all = new InMemoryLogRecordExporter();
    const p2 = new LoggerProvider({ processors: [new RedactionProcessor({ scopes: "all" }), new SimpleLogRecordProcessor({ exporter: all })] });
    p2.getLogger("my-app").emit({ body: "login a@b.io", attributes: { password: "p" } });
    expect(exporter.getFinishedLogRecords()[0]).toMatchObject({ body: "login a@b.io", attributes: { password: "p" } });
    expect(all.getFinishedLogRecords()[0]).toMatchObject({ body: "login [REDACTED]", attributes: { password: "[REDACTED]" } });
  });
});
