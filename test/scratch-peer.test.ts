import { expect, it } from "vitest";
import { auditLog, MemoryStorage } from "otel-auth-audit/better-auth";
import { createTestAudit } from "otel-auth-audit/testing";
import { createStoreApp } from "./helpers/store-app.js";
import { createAuthApp } from "./helpers/auth-app.js";

const PASSWORD = "correct-horse-battery-1";
it("per-path, enabled, maxEntries, metadata proto", async () => {
  const storage = new MemoryStorage({ maxEntries: 2 });
  const t = createTestAudit();
  const plugin = auditLog({
    loggerProvider: t.provider, storage,
    paths: ["/sign-in/email", "/sign-up/email", { path: "/delete-user", config: { severity: "high", capture: { requestBody: true } } }],
  });
  const a = await createStoreApp("memory", { plugins: [plugin], user: { deleteUser: { enabled: true } } });
  const r = await a.post("/sign-up/email", { email: "a@example.com", password: PASSWORD, name: "A" });
  await a.post("/sign-in/email", { email: "a@example.com", password: PASSWORD });
  await a.post("/change-password", { currentPassword: PASSWORD, newPassword: "another-password-123" }, r.cookie);
  const d = await a.post("/delete-user", { password: PASSWORD }, r.cookie);
  await plugin.audit.flush();
  console.log(d.status, storage.entries.map((e) => [e.action, e.status, e.severity, JSON.stringify(e.metadata)]));
  console.log(Object.getPrototypeOf(storage.entries[0]!.metadata));
  const ins = new MemoryStorage();
  const t2 = createTestAudit();
  const p2 = auditLog({ loggerProvider: t2.provider, storage: ins, enabled: false });
  const b = await createStoreApp("memory", { plugins: [p2] });
  await b.post("/sign-up/email", { email: "a@example.com", password: PASSWORD, name: "A" });
  console.log("disabled", ins.entries.length, t2.records().length);
});

it("schema modelName", async () => {
  const t = createTestAudit();
  const plugin = auditLog({ loggerProvider: t.provider, schema: { auditLog: { modelName: "audit_logs" } } });
  const a = await createAuthApp({ plugins: [plugin] });
  const r = await a.post("/sign-up/email", { email: "a@example.com", password: PASSWORD, name: "A" });
  await plugin.audit.flush();
  console.log(r.status, (a.database as any).prepare("select action, status, metadata from audit_logs").all());
  const l = await a.get("/audit-log/list", r.cookie);
  console.log(l.status, JSON.stringify(l.json));
});
