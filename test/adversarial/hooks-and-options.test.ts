/**
 * Bad hook output breaks auth; silent misconfiguration (issue #12). A beforeLog that throws,
 * rejects, hangs or returns a cyclic, action-less, partial or non-object result: the original
 * event is still recorded (redacted), the problem goes to diag and onto the record, sign-up never
 * answers 500, and with `nonBlocking` nothing escapes as an unhandled rejection. Deep insert
 * metadata is a 400. Every public constructor refuses the options the review found accepted.
 */
import { diag, DiagLogLevel } from "@opentelemetry/api";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  AuditOptionsError,
  auditProcessors,
  AuthAuditInstrumentation,
  BruteForceDetector,
  createAuditLogger,
  IntegrityProcessor,
  RedactionProcessor,
  setupAudit,
} from "otel-auth-audit";
import { auditLog } from "otel-auth-audit/better-auth";
import { createTestAudit } from "otel-auth-audit/testing";
import { adversarialApp } from "./harness.js";

const cyclic = () => {
  const e: Record<string, unknown> = { action: "sign-up:email", outcome: "success", severity: "low", id: "x", time: new Date() };
  e.metadata = { self: e };
  (e.metadata as Record<string, unknown>).loop = e.metadata;
  return e;
};
const throwingGetter = () =>
  Object.defineProperty({ outcome: "success", severity: "low", id: "y", time: new Date() }, "action", {
    enumerable: true,
    get() {
      throw new Error("getter");
    },
  });

/** Results a buggy or hostile beforeLog returns. */
const BAD_RESULTS: Array<[string, (e: Record<string, unknown>) => unknown]> = [
  ["a cyclic event", () => cyclic()],
  ["an event without action", (e) => ({ ...e, action: undefined })],
  ["a partial object", () => ({ action: "sign-up:email" })],
  ["a string", () => "not an event"],
  ["a number", () => 42],
  ["an array", () => [1, 2]],
  ["true", () => true],
  ["an event with a bad outcome", (e) => ({ ...e, outcome: "maybe" })],
  ["an event with a bad severity", (e) => ({ ...e, severity: "urgent" })],
  ["an event without time", (e) => ({ ...e, time: "yesterday" })],
  ["an event with a throwing getter", () => throwingGetter()],
  ["a thenable that throws", () => ({ then: () => { throw new Error("then"); } })],
  ["a rejected promise", () => Promise.reject(new Error("nope"))],
  ["a promise of garbage", () => Promise.resolve({ nothing: true })],
  ["a throw", () => { throw new Error("boom"); }],
  ["a throw of a non-error", () => { throw "string thrown"; }],
];

let unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);
let diagErrors: string[] = [];
beforeEach(() => {
  unhandled = [];
  diagErrors = [];
  process.on("unhandledRejection", onUnhandled);
  diag.setLogger({ error: (m) => void diagErrors.push(m), warn: () => {}, info: () => {}, debug: () => {}, verbose: () => {} }, DiagLogLevel.WARN);
});
afterEach(() => {
  process.off("unhandledRejection", onUnhandled);
  diag.disable();
});

describe("beforeLog results", () => {
  it.each(BAD_RESULTS)("%s: the original event is recorded, marked, and reported", async (_name, result) => {
    const t = createTestAudit({ beforeLog: (e) => result(e as never) as never });
    const emitted = await t.audit.record({ action: "sign-up:email", outcome: "success", userId: "u1", metadata: { password: "pw-canary" } });
    expect(emitted?.action).toBe("sign-up:email");
    const [r] = t.records();
    expect(r?.attributes).toMatchObject({ "audit.action": "sign-up:email", "user.id": "u1", "audit.metadata.password": "[REDACTED]" });
    expect(r?.attributes["audit.before_log.error"]).toMatch(/^(threw|rejected|invalid_result)$/);
    expect(diagErrors.some((m) => m.includes("beforeLog"))).toBe(true);
  });

  it("a beforeLog that never settles does not hold the record forever", async () => {
    const t = createTestAudit({ beforeLog: () => new Promise(() => {}) });
    const { vi } = await import("vitest");
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const pending = t.audit.record({ action: "sign-in:email", outcome: "success" });
      await vi.advanceTimersByTimeAsync(6_000);
      await pending;
    } finally {
      vi.useRealTimers();
    }
    expect(t.records()[0]?.attributes["audit.before_log.error"]).toBe("timeout");
  });

  it.each([false, true])("sign-up and sign-in through a real app never answer 5xx, whatever beforeLog returns (nonBlocking %s)", async (nonBlocking) => {
    let which = 0;
    const app = await adversarialApp("sqlite", { nonBlocking, beforeLog: (e) => BAD_RESULTS[which++ % BAD_RESULTS.length]![1](e as never) as never });
    for (let i = 0; i < BAD_RESULTS.length; i++) {
      const r = await app.post("/sign-up/email", { email: `user${i}@example.com`, password: "correct-horse-battery-1", name: "n" });
      expect(r.status, BAD_RESULTS[i]![0]).toBe(200);
    }
    await app.plugin.audit.flush();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const signUps = app.t.records().filter((r) => r.attributes["audit.action"] === "sign-up:email");
    expect(signUps.length).toBe(BAD_RESULTS.length);
    expect(unhandled).toEqual([]);
  });
});

describe("insert metadata", () => {
  it("nested deeper than the bound, under the size cap: 400 METADATA_TOO_DEEP, never 500", async () => {
    const app = await adversarialApp("memory");
    const user = await app.signUp("deep@example.com");
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 17, max: 3000 }), fc.constantFrom("[", '{"a":'), async (depth, open) => {
        const close = open === "[" ? "]" : "}";
        const metadata = `{"x":${open.repeat(depth)}1${close.repeat(depth)}}`;
        const body = `{"action":"profile:updated","status":"success","metadata":${metadata}}`;
        const r = await app.auth.handler(
          new Request("http://localhost:3000/api/auth/audit-log/insert", { method: "POST", headers: { "content-type": "application/json", cookie: user.cookie, origin: "http://localhost:3000" }, body }),
        );
        expect(r.status).toBe(400);
        expect(((await r.json()) as { code?: string }).code).toBe("METADATA_TOO_DEEP");
      }),
      { numRuns: 20 },
    );
  });
});

describe("options are refused at construction, naming the option", () => {
  const refuses = (make: () => unknown, option: string) => {
    let error: unknown;
    try {
      make();
    } catch (e) {
      error = e;
    }
    expect(error, option).toBeInstanceOf(AuditOptionsError);
    expect((error as AuditOptionsError).option).toBe(option);
  };

  it.each([
    ["RedactionProcessor scopes as a string", () => new RedactionProcessor({ scopes: "otel-auth-audit" as never }), "scopes"],
    ["RedactionProcessor empty keys", () => new RedactionProcessor({ keys: [] }), "keys"],
    ["RedactionProcessor unknown strategy", () => new RedactionProcessor({ strategy: "blur" as never }), "strategy"],
    ["RedactionProcessor misspelt option", () => new RedactionProcessor({ extrakeys: ["x"] } as never), "extrakeys"],
    ["auditProcessors redaction.scopes", () => auditProcessors({ redaction: { scopes: "otel-auth-audit" as never } }), "redaction.scopes"],
    ["IntegrityProcessor checkpointEvery -5", () => new IntegrityProcessor({ checkpointEvery: -5 }), "checkpointEvery"],
    ["setupAudit severity mapping", () => setupAudit({ global: false, severityMapping: { low: { number: 99, text: "X" } } as never }), "severityMapping.low.number"],
    ["createAuditLogger severity urgent", () => createAuditLogger({ severity: { "sign-in:email": "urgent" as never } }), "severity.sign-in:email"],
    ["BruteForceDetector windowMs", () => new BruteForceDetector({ ip: { max: 5, windowMs: "1h" as never } }), "ip.windowMs"],
    ["AuthAuditInstrumentation betterAuth paths", () => new AuthAuditInstrumentation({ betterAuth: { paths: ["sign-in/*"] } }), "betterAuth.paths.0"],
    ["auditLog paths without slash", () => auditLog({ paths: ["sign-in/*"] }), "paths.0"],
    ["auditLog path severity urgent", () => auditLog({ paths: [{ path: "/sign-in/*", config: { severity: "urgent" as never } }] }), "paths.0.config.severity"],
    ["auditLog insert.maxMetadataBytes 8k", () => auditLog({ insert: { maxMetadataBytes: "8k" as never } }), "insert.maxMetadataBytes"],
    ["auditLog capture flag", () => auditLog({ capture: { requestBody: "yes" as never } }), "capture.requestBody"],
    ["auditLog unknown option", () => auditLog({ redaction: { scopes: "otel-auth-audit" } } as never), "redaction"],
  ])("%s", (_name, make, option) => refuses(make, option as string));

  it("the documented spellings are accepted", () => {
    expect(() => auditLog({ paths: ["/sign-in/*", { path: "/admin/*", config: { severity: "critical" } }], insert: { maxMetadataBytes: 8192 }, capture: { requestBody: true } })).not.toThrow();
    expect(() => new RedactionProcessor({ scopes: "all", extraKeys: ["phone", { key: "ssn", strategy: "remove" }] })).not.toThrow();
    expect(() => auditProcessors({ redaction: { scopes: ["otel-auth-audit", "my-app"] }, integrity: false })).not.toThrow();
  });
});
