import { logs } from "@opentelemetry/api";
import { registerInstrumentations } from "@opentelemetry/instrumentation";
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from "@opentelemetry/sdk-logs";
import { NodeSDK } from "@opentelemetry/sdk-node";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthAuditInstrumentation, auditProcessors } from "otel-auth-audit";
import { auditLogFor } from "otel-auth-audit/better-auth";
import { createAuthApp } from "./helpers/auth-app.js";

const PASSWORD = "instrumented-password-1";

describe("AuthAuditInstrumentation under NodeSDK", () => {
  const logExporter = new InMemoryLogRecordExporter();
  const spanExporter = new InMemorySpanExporter();
  const instrumentation = new AuthAuditInstrumentation();
  let sdk: NodeSDK;
  let app: Pick<Awaited<ReturnType<typeof createAuthApp>>, "post" | "get">;

  beforeAll(async () => {
    sdk = new NodeSDK({
      serviceName: "instrumented-app",
      instrumentations: [instrumentation],
      // the app's one logging pipeline carries the audit processors; they act on audit records only
      logRecordProcessors: [...auditProcessors({ integrity: { key: "nodesdk-test-key", checkpointIntervalMs: 0 } }), new SimpleLogRecordProcessor({ exporter: logExporter })],
      spanProcessors: [new SimpleSpanProcessor({ exporter: spanExporter })],
    });
    sdk.start();
    app = await createAuthApp({ plugins: [auditLogFor(instrumentation)] });
  });
  afterAll(() => sdk.shutdown());

  it("a better-auth sign-in produces the audit record through the SDK's provider", async () => {
    await app.post("/sign-up/email", { email: "nodesdk@example.com", password: PASSWORD, name: "N" });
    logExporter.reset();
    await app.post("/sign-in/email", { email: "nodesdk@example.com", password: PASSWORD });
    const audit = logExporter.getFinishedLogRecords().filter((r) => r.instrumentationScope.name === "otel-auth-audit");
    expect(audit.map((r) => r.eventName)).toEqual(["auth.sign_in.email"]);
    expect(String(audit[0].resource.attributes["service.name"])).toBe("instrumented-app");
    // redacted and chained by the processors NodeSDK was given
    expect(audit[0].attributes["audit.chain.hash"]).toMatch(/^[0-9a-f]{64}$/);
  });

  it("ordinary app logs in the same process pass through untouched", () => {
    logExporter.reset();
    logs.getLogger("app").emit({ body: "order placed", attributes: { "order.id": "o-1", password: "app-owned-field" } });
    const [record] = logExporter.getFinishedLogRecords();
    expect(record.instrumentationScope.name).toBe("app");
    // no redaction, no chain fields: the audit processors leave other scopes alone
    expect(record.attributes).toEqual({ "order.id": "o-1", password: "app-owned-field" });
  });

  it("the record joins better-auth's own span of the request", async () => {
    spanExporter.reset();
    logExporter.reset();
    await app.post("/sign-in/email", { email: "nodesdk@example.com", password: "not-the-password" });
    const [record] = logExporter.getFinishedLogRecords().filter((r) => r.instrumentationScope.name === "otel-auth-audit");
    const spans = spanExporter.getFinishedSpans();
    const requestSpan = spans.find((s) => s.name === "POST /sign-in/email");
    expect(requestSpan).toBeDefined();
    expect(record.spanContext?.traceId).toBe(requestSpan!.spanContext().traceId);
    expect(spans.map((s) => s.spanContext().spanId)).toContain(record.spanContext?.spanId);
  });

  it("disable() stops emission and enable() resumes it, without a restart", async () => {
    logExporter.reset();
    instrumentation.disable();
    await app.post("/sign-in/email", { email: "nodesdk@example.com", password: PASSWORD });
    expect(logExporter.getFinishedLogRecords()).toHaveLength(0);
    instrumentation.enable();
    await app.post("/sign-in/email", { email: "nodesdk@example.com", password: PASSWORD });
    expect(logExporter.getFinishedLogRecords().map((r) => r.eventName)).toEqual(["auth.sign_in.email"]);
  });
});

describe("AuthAuditInstrumentation with registerInstrumentations", () => {
  it("emits into the LoggerProvider it is handed; scope name and version are the package's", async () => {
    const exporter = new InMemoryLogRecordExporter();
    const loggerProvider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter })] });
    const instrumentation = new AuthAuditInstrumentation();
    const unregister = registerInstrumentations({ instrumentations: [instrumentation], loggerProvider });
    expect(instrumentation.instrumentationName).toBe("otel-auth-audit");
    await instrumentation.audit.record({ action: "admin:user-export", outcome: "success", userId: "u-1" });
    expect(exporter.getFinishedLogRecords().map((r) => [r.eventName, r.instrumentationScope.name])).toEqual([["auth.admin.user_export", "otel-auth-audit"]]);
    instrumentation.setConfig({ enabled: false });
    await instrumentation.audit.record({ action: "admin:user-export", outcome: "success" });
    expect(exporter.getFinishedLogRecords()).toHaveLength(1);
    unregister();
  });

  it("reads OTEL_AUTH_AUDIT_* for operators", async () => {
    const { readEnvConfig } = await import("../src/config.js");
    expect(readEnvConfig({ OTEL_AUTH_AUDIT_ENABLED: "false", OTEL_AUTH_AUDIT_CAPTURE_IP: "0", OTEL_AUTH_AUDIT_KEY: "k" })).toEqual({
      enabled: false,
      key: "k",
      capture: { ipAddress: false },
    });
    expect(() => readEnvConfig({ OTEL_AUTH_AUDIT_ENABLED: "maybe" })).toThrow(/boolean/);
    // a bad value is refused with the one options error, naming the variable; never read as false
    for (const name of ["OTEL_AUTH_AUDIT_ENABLED", "OTEL_AUTH_AUDIT_CAPTURE_IP", "OTEL_AUTH_AUDIT_CAPTURE_USER_AGENT", "OTEL_AUTH_AUDIT_CAPTURE_REQUEST_BODY"]) {
      for (const bad of ["maybe", "flase", "2", "enabled"]) {
        expect(() => readEnvConfig({ [name]: bad }), `${name}=${bad}`).toThrow(expect.objectContaining({ name: "AuditOptionsError", option: name }));
      }
    }
  });
});

describe("AuthAuditInstrumentation.authjs()", () => {
  it("wraps an Auth.js config so its sign-ins and failures emit through the instrumentation", async () => {
    const { Auth } = await import("@auth/core");
    const { default: Credentials } = await import("@auth/core/providers/credentials");
    const { auditHandler } = await import("otel-auth-audit/authjs");
    const { webClient } = await import("./helpers/authjs-client.js");
    const exporter = new InMemoryLogRecordExporter();
    const loggerProvider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter })] });
    const instrumentation = new AuthAuditInstrumentation();
    const unregister = registerInstrumentations({ instrumentations: [instrumentation], loggerProvider });
    const config = instrumentation.authjs({
      basePath: "/auth",
      secret: "instrumented-authjs-secret-0123456789abcdefgh",
      trustHost: true,
      session: { strategy: "jwt" as const },
      providers: [
        Credentials({
          credentials: { email: {}, password: {} },
          authorize: async (c) => (c.password === "right-password-1" ? { id: "u-1", email: String(c.email) } : null),
        }),
      ],
    });
    const browser = webClient(auditHandler((request: Request) => Auth(request, config), config));
    await browser.signIn("credentials", { email: "ada@example.com", password: "right-password-1" });
    await browser.signIn("credentials", { email: "ada@example.com", password: "wrong-password-1" });
    const audit = exporter.getFinishedLogRecords().filter((r) => r.instrumentationScope.name === "otel-auth-audit");
    expect(audit.map((r) => [r.attributes["audit.action"], r.attributes["audit.outcome"]])).toEqual([
      ["sign-in:credentials", "success"],
      ["sign-in:credentials", "failure"],
    ]);
    instrumentation.disable();
    await browser.signIn("credentials", { email: "ada@example.com", password: "wrong-password-1" });
    expect(exporter.getFinishedLogRecords().filter((r) => r.instrumentationScope.name === "otel-auth-audit")).toHaveLength(2);
    unregister();
  });
});
