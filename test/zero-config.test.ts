import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { auditLog } from "otel-auth-audit/better-auth";
import { createAuthApp } from "./helpers/auth-app.js";
import { startOtlpReceiver } from "./helpers/otlp-capture.js";

describe("auditLog() with zero config", () => {
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  const spool = mkdtempSync(join(tmpdir(), "zero-config-"));
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    vi.stubEnv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url);
    vi.stubEnv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json");
    vi.stubEnv("OTEL_AUTH_AUDIT_SPOOL_DIR", spool);
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await receiver.close();
    rmSync(spool, { recursive: true, force: true });
  });

  it("stores to the app's database and, with OTEL_EXPORTER_OTLP_ENDPOINT set and no SDK, ships OTLP too", async () => {
    const app = await createAuthApp({ plugins: [auditLog()] });
    const signUp = await app.post("/sign-up/email", { email: "zero@example.com", password: "zero-config-pass-1", name: "Z" });
    expect(signUp.status).toBe(200);

    const list = await app.get("/audit-log/list", signUp.cookie);
    expect(list.json.entries.map((e: { action: string }) => e.action)).toEqual(["sign-up:email"]);

    const deadline = Date.now() + 15_000;
    while (!receiver.records().some((r) => r.eventName === "auth.sign_up.email") && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const shipped = receiver.records().find((r) => r.eventName === "auth.sign_up.email");
    expect(shipped?.scope).toBe("otel-auth-audit");
    // the full pipeline: chained on the way out
    expect(shipped?.attributes?.map((a) => a.key)).toContain("audit.chain.hash");
  });
});
