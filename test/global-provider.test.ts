/**
 * Found by the Next.js consumer stage: with an SDK registered globally (setupAudit() in Next's
 * instrumentation.ts) and OTEL_EXPORTER_OTLP_ENDPOINT set, auditLog() took the zero-config
 * fallback pipeline instead of the registered provider — records left on a second, unnamed
 * chain that nobody shut down. The registered global provider must win.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { logs } from "@opentelemetry/api";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { auditLog } from "otel-auth-audit/better-auth";
import { createTestAudit } from "otel-auth-audit/testing";
import { createAuthApp } from "./helpers/auth-app.js";
import { startOtlpReceiver } from "./helpers/otlp-capture.js";

describe("auditLog() with a global LoggerProvider and OTEL_EXPORTER_OTLP_ENDPOINT set", () => {
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  const spool = mkdtempSync(join(tmpdir(), "global-provider-"));
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    vi.stubEnv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url);
    vi.stubEnv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json");
    vi.stubEnv("OTEL_AUTH_AUDIT_SPOOL_DIR", spool);
  });
  afterAll(async () => {
    logs.disable();
    vi.unstubAllEnvs();
    await receiver.close();
    rmSync(spool, { recursive: true, force: true });
  });

  it("records go to the registered provider, not to a zero-config pipeline of their own", async () => {
    const t = createTestAudit();
    expect(logs.setGlobalLoggerProvider(t.provider)).toBe(true);
    const app = await createAuthApp({ plugins: [auditLog()] });
    const signUp = await app.post("/sign-up/email", { email: "global@example.com", password: "global-provider-pass-1", name: "G" });
    expect(signUp.status).toBe(200);
    expect(t.find({ action: "sign-up:email", outcome: "success" })).toBeDefined();
    // a fallback pipeline would have shipped it to the endpoint within this time
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(receiver.records().filter((r) => r.scope === "otel-auth-audit")).toEqual([]);
  });
});
