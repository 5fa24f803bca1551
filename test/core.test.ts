import { SeverityNumber, context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { AuditValidationError, createAuditLogger } from "otel-auth-audit";
import { eventNameFor } from "../src/attributes.js";
import { inferSeverity } from "../src/severity.js";
import { VERSION } from "../src/version.js";
import { createTestAudit } from "otel-auth-audit/testing";

describe("event names", () => {
  it.each([
    ["sign-in:email", "auth.sign_in.email"],
    ["sign-up:email", "auth.sign_up.email"],
    ["sign-out", "auth.sign_out"],
    ["admin:ban-user", "auth.admin.ban_user"],
    ["two-factor:verify-totp", "auth.two_factor.verify_totp"],
  ])("%s → %s", (action, name) => expect(eventNameFor(action)).toBe(name));
});

describe("severity inference", () => {
  it.each([
    ["admin:ban-user", "success", "critical"],
    ["admin:impersonate-user", "success", "critical"],
    ["admin:set-role", "success", "critical"],
    ["admin:remove-user", "success", "critical"],
    ["admin:set-user-password", "success", "critical"],
    ["admin:unban-user", "success", "low"],
    ["admin:stop-impersonating", "success", "low"],
    ["delete-user", "success", "high"],
    ["revoke-session", "success", "high"],
    ["revoke-sessions", "success", "high"],
    ["revoke-other-sessions", "success", "high"],
    ["sign-in:email", "failure", "high"],
    ["sign-in:social", "failure", "high"],
    ["two-factor:verify-totp", "failure", "high"],
    ["sign-in:email", "success", "medium"],
    ["sign-out", "success", "medium"],
    ["sign-up:email", "success", "medium"],
    ["change-password", "success", "low"],
    ["update-user", "success", "low"],
  ] as const)("%s %s → %s", (action, outcome, severity) => expect(inferSeverity(action, outcome)).toBe(severity));
});

describe("AuditLogger", () => {
  it("emits one record with event name, severity mapping, attributes and scope", async () => {
    const t = createTestAudit();
    await t.audit.record({ action: "sign-in:email", outcome: "failure", userId: null, ipAddress: "203.0.113.9", error: "INVALID_EMAIL_OR_PASSWORD" });
    const [record] = t.records();
    expect(t.records()).toHaveLength(1);
    expect(record.eventName).toBe("auth.sign_in.email");
    expect(record.severityNumber).toBe(SeverityNumber.WARN);
    expect(record.severityText).toBe("WARN");
    expect(record.instrumentationScope).toMatchObject({ name: "otel-auth-audit", version: VERSION });
    expect(record.attributes).toMatchObject({
      "audit.action": "sign-in:email",
      "audit.outcome": "failure",
      "audit.severity": "high",
      "client.address": "203.0.113.9",
      "error.type": "INVALID_EMAIL_OR_PASSWORD",
    });
    expect(record.attributes["user.id"]).toBeUndefined();
    expect(record.attributes["audit.id"]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("maps each audit severity to its OTel severity", async () => {
    const t = createTestAudit();
    for (const severity of ["low", "medium", "high", "critical"] as const) {
      await t.audit.record({ action: "custom:thing", outcome: "success", severity });
    }
    expect(t.records().map((r) => [r.severityNumber, r.severityText, r.attributes["audit.severity"]])).toEqual([
      [9, "INFO", "low"],
      [10, "INFO", "medium"],
      [13, "WARN", "high"],
      [17, "ERROR", "critical"],
    ]);
  });

  it("flattens metadata under audit.metadata.*", async () => {
    const t = createTestAudit();
    await t.audit.record({ action: "admin:user-export", outcome: "success", userId: "u1", metadata: { format: "csv", filter: { role: "admin" }, rows: 3 } });
    expect(t.find({ action: "admin:user-export" })?.attributes).toMatchObject({
      "audit.metadata.format": "csv",
      "audit.metadata.filter.role": "admin",
      "audit.metadata.rows": 3,
      "user.id": "u1",
    });
  });

  it("rejects bad manual events with a typed error and emits nothing", () => {
    const t = createTestAudit();
    expect(() => t.audit.record({ outcome: "success" } as never)).toThrow(AuditValidationError);
    expect(() => t.audit.record({ action: "x", outcome: "ok" } as never)).toThrow(/outcome/);
    expect(() => t.audit.record({ action: "x", outcome: "success", severity: "urgent" } as never)).toThrow(/severity/);
    expect(t.records()).toHaveLength(0);
  });

  it("honours global severity overrides", async () => {
    const t = createTestAudit({ severity: { "sign-in:email": "critical" } });
    await t.audit.record({ action: "sign-in:email", outcome: "success" });
    expect(t.records()[0].attributes["audit.severity"]).toBe("critical");
  });

  it("beforeLog edits or suppresses; afterLog sees the emitted event", async () => {
    const seen: string[] = [];
    const t = createTestAudit({
      beforeLog: (e) => (e.action === "noise" ? null : { ...e, metadata: { tagged: true } }),
      afterLog: (e) => void seen.push(e.action),
    });
    await t.audit.record({ action: "noise", outcome: "success" });
    await t.audit.record({ action: "kept", outcome: "success" });
    expect(t.records()).toHaveLength(1);
    expect(t.records()[0].attributes["audit.metadata.tagged"]).toBe(true);
    expect(seen).toEqual(["kept"]);
  });

  it("uses the global LoggerProvider when none is given", () => {
    const logger = createAuditLogger();
    expect(() => logger.record({ action: "x", outcome: "success" })).not.toThrow();
  });

  it("carries the active span's trace context", async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const t = createTestAudit();
    const spanContext = { traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331", traceFlags: 1 };
    await context.with(trace.setSpanContext(context.active(), spanContext), () =>
      t.audit.record({ action: "sign-out", outcome: "success" }),
    );
    expect(t.records()[0].spanContext).toMatchObject({ traceId: spanContext.traceId, spanId: spanContext.spanId });
  });
});

it("VERSION matches package.json", () => {
  expect(VERSION).toBe(JSON.parse(readFileSync("package.json", "utf8")).version);
});

describe("event ids", () => {
  it("are RFC 9562 UUIDv7s that sort by time", async () => {
    const { newEventId } = await import("../src/event.js");
    const ids = Array.from({ length: 1000 }, () => newEventId());
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(1000);
    const ms = parseInt(ids[0].replace(/-/g, "").slice(0, 12), 16);
    expect(Math.abs(ms - Date.now())).toBeLessThan(5000);
  });
});

describe("createTestAudit finders", () => {
  it("match event fields, the event name, and attribute names", async () => {
    const t = createTestAudit();
    await t.audit.record({ action: "sign-in:email", outcome: "failure", ipAddress: "203.0.113.7" });
    await t.audit.record({ action: "sign-in:email", outcome: "success", userId: "u-1", ipAddress: "198.51.100.1" });
    expect(t.find({ outcome: "success" })?.attributes["user.id"]).toBe("u-1");
    expect(t.find({ "client.address": "203.0.113.7" })?.attributes["audit.outcome"]).toBe("failure");
    expect(t.find({ "client.address": "192.0.2.1" })).toBeUndefined();
    expect(t.findAll({ eventName: "auth.sign_in.email" })).toHaveLength(2);
    expect(t.find({ userId: null })?.attributes["audit.outcome"]).toBe("failure");
    expect(t.events().map((e) => e.outcome)).toEqual(["failure", "success"]);
  });
});
