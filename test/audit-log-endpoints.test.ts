import { describe, expect, it, beforeAll } from "vitest";
import { admin } from "better-auth/plugins";
import { createAuthClient } from "better-auth/client";
import { auditLog } from "otel-auth-audit/better-auth";
import { auditLogClient } from "otel-auth-audit/better-auth/client";
import { createTestAudit } from "otel-auth-audit/testing";
import { BASE_URL, USER_AGENT } from "./helpers/auth-app.js";
import { BACKENDS, createStoreApp, type Backend } from "./helpers/store-app.js";

const PASSWORD = "correct-horse-battery-1";

async function setup(backend: Backend, pluginOptions: Parameters<typeof auditLog>[0] = {}, adminOptions: Parameters<typeof admin>[0] = {}) {
  const t = createTestAudit();
  const plugin = auditLog({ loggerProvider: t.provider, ...pluginOptions });
  const app = await createStoreApp(backend, { plugins: [plugin, admin(adminOptions)] });
  const signUp = async (email: string) => {
    const r = await app.post("/sign-up/email", { email, password: PASSWORD, name: email.split("@")[0] });
    expect(r.status).toBe(200);
    return { cookie: r.cookie!, userId: r.json.user.id as string };
  };
  const makeAdmin = async (email: string) => {
    const { userId } = await signUp(email);
    const ctx = await app.auth.$context;
    await ctx.internalAdapter.updateUser(userId, { role: "admin" });
    const r = await app.post("/sign-in/email", { email, password: PASSWORD });
    return { cookie: r.cookie!, userId };
  };
  return { t, plugin, ...app, signUp, makeAdmin };
}

describe.each(BACKENDS)("audit-log endpoints on %s", (backend) => {
  let app: Awaited<ReturnType<typeof setup>>;
  let ada: { cookie: string; userId: string };
  let bob: { cookie: string; userId: string };
  let boss: { cookie: string; userId: string };

  beforeAll(async () => {
    app = await setup(backend);
    ada = await app.signUp("ada@example.com");
    bob = await app.signUp("bob@example.com");
    await app.post("/sign-in/email", { email: "ada@example.com", password: "wrong-password-xx" });
    await app.post("/change-password", { currentPassword: PASSWORD, newPassword: "another-password-2" }, ada.cookie);
    await app.post("/change-password", { currentPassword: "nope-nope-nope", newPassword: "another-password-3" }, ada.cookie);
    boss = await app.makeAdmin("boss@example.com");
  });

  it("requires a session: 401 for list, get and insert", async () => {
    expect((await app.get("/audit-log/list")).status).toBe(401);
    expect((await app.get("/audit-log/some-id")).status).toBe(401);
    expect((await app.post("/audit-log/insert", { action: "x", status: "success" })).status).toBe(401);
  });

  it("list: a user's own records, newest first, with total, limit and offset; no user agent", async () => {
    const r = await app.get("/audit-log/list", ada.cookie);
    expect(r.status).toBe(200);
    expect(r.json.entries.map((e: { action: string; outcome: string }) => [e.action, e.outcome])).toEqual([
      ["change-password", "failure"],
      ["change-password", "success"],
      ["sign-up:email", "success"],
    ]);
    expect(r.json).toMatchObject({ total: 3, limit: 50, offset: 0 });
    for (const e of r.json.entries) {
      expect(e.userId).toBe(ada.userId);
      expect(e).not.toHaveProperty("userAgent");
    }
    expect(r.json.entries[0]).toMatchObject({ status: "failed", error: "INVALID_PASSWORD", severity: "low", origin: "server", ipAddress: expect.any(String) });
    expect(new Date(r.json.entries[0].createdAt).getTime()).toBeGreaterThanOrEqual(new Date(r.json.entries[1].createdAt).getTime());
  });

  it("list filters: action, status (failure and the peer's failed), severity, from/to, limit/offset", async () => {
    const q = (s: string) => app.get(`/audit-log/list?${s}`, ada.cookie).then((r) => r.json);
    expect((await q("action=sign-up:email")).entries.map((e: { action: string }) => e.action)).toEqual(["sign-up:email"]);
    expect((await q("status=failed")).entries.map((e: { error: string }) => e.error)).toEqual(["INVALID_PASSWORD"]);
    expect((await q("status=failure")).total).toBe(1);
    expect((await q("status=success")).total).toBe(2);
    expect((await q("severity=medium")).entries.map((e: { action: string }) => e.action)).toEqual(["sign-up:email"]);
    const page = await q("limit=1&offset=1");
    expect(page).toMatchObject({ total: 3, limit: 1, offset: 1 });
    expect(page.entries.map((e: { action: string; outcome: string }) => [e.action, e.outcome])).toEqual([["change-password", "success"]]);
    expect((await q(`from=${new Date(Date.now() + 60_000).toISOString()}`)).total).toBe(0);
    expect((await q(`to=${new Date(Date.now() - 3_600_000).toISOString()}`)).total).toBe(0);
    expect((await q(`from=${new Date(Date.now() - 3_600_000).toISOString()}&to=${new Date(Date.now() + 60_000).toISOString()}`)).total).toBe(3);
  });

  it("list rejects bad queries with 400s", async () => {
    const bad = async (s: string) => app.get(`/audit-log/list?${s}`, ada.cookie);
    expect((await bad("limit=501")).status).toBe(400);
    expect((await bad("limit=0")).status).toBe(400);
    expect((await bad("status=maybe")).status).toBe(400);
    const date = await bad("from=yesterday-ish");
    expect([date.status, date.json.code]).toEqual([400, "INVALID_DATE"]);
    const range = await bad(`from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z`);
    expect([range.status, range.json.code]).toEqual([400, "INVALID_DATE_RANGE"]);
  });

  it("cross-user reads are denied: another user's list is 403, their entry is 404, everyone's is 403", async () => {
    const own = await app.get("/audit-log/list", ada.cookie);
    const adaEntry = own.json.entries[0];
    const list = await app.get(`/audit-log/list?userId=${ada.userId}`, bob.cookie);
    expect([list.status, list.json.code]).toEqual([403, "NOT_ALLOWED_TO_READ_OTHER_USERS_AUDIT_LOGS"]);
    const all = await app.get(`/audit-log/list?all=true`, bob.cookie);
    expect(all.status).toBe(403);
    const one = await app.get(`/audit-log/${adaEntry.id}`, bob.cookie);
    expect([one.status, one.json.code]).toEqual([404, "AUDIT_LOG_NOT_FOUND"]);
    const mine = await app.get(`/audit-log/${adaEntry.id}`, ada.cookie);
    expect(mine.status).toBe(200);
    expect(mine.json).toMatchObject({ id: adaEntry.id, userId: ada.userId });
    expect(mine.json).not.toHaveProperty("userAgent");
    expect((await app.get(`/audit-log/does-not-exist`, ada.cookie)).status).toBe(404);
    // asking for oneself by id is fine
    expect((await app.get(`/audit-log/list?userId=${ada.userId}`, ada.cookie)).status).toBe(200);
  });

  it("an admin (admin plugin role) reads another user's records, everyone's, and any entry", async () => {
    const other = await app.get(`/audit-log/list?userId=${ada.userId}`, boss.cookie);
    expect(other.status).toBe(200);
    expect(other.json.total).toBe(3);
    const all = await app.get(`/audit-log/list?all=true&limit=500`, boss.cookie);
    expect(all.status).toBe(200);
    const users = new Set(all.json.entries.map((e: { userId: string | null }) => e.userId));
    expect(users).toEqual(new Set([ada.userId, bob.userId, boss.userId, null]));
    expect(all.json.entries.find((e: { action: string; outcome: string }) => e.action === "sign-in:email" && e.outcome === "failure")).toMatchObject({
      userId: null,
      error: "INVALID_EMAIL_OR_PASSWORD",
      severity: "high",
    });
    const one = await app.get(`/audit-log/${other.json.entries[0].id}`, boss.cookie);
    expect(one.status).toBe(200);
    // without userId an admin, like everyone, gets their own records (better-auth-audit-logs' default)
    const own = await app.get(`/audit-log/list`, boss.cookie);
    expect(own.json.entries.every((e: { userId: string }) => e.userId === boss.userId)).toBe(true);
  });

  it("insert: the caller is the subject, origin client, one record (OTLP and store), no automatic second record", async () => {
    app.t.reset();
    const r = await app.post("/audit-log/insert", { action: "data:export", status: "success", metadata: { rows: 500, filter: { team: "a" } } }, ada.cookie);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ action: "data:export", outcome: "success", status: "success", origin: "client", userId: ada.userId, severity: "low", metadata: { rows: 500, filter: { team: "a" } } });
    expect(r.json.sessionId).toEqual(expect.any(String));
    expect(app.t.records()).toHaveLength(1);
    expect(app.t.records()[0].attributes).toMatchObject({ "audit.origin": "client", "audit.action": "data:export", "user.id": ada.userId, "audit.metadata.filter.team": "a" });
    const stored = await app.get(`/audit-log/${r.json.id}`, ada.cookie);
    expect(stored.json).toMatchObject({ id: r.json.id, origin: "client", metadata: { rows: 500, filter: { team: "a" } } });
    const listed = await app.get(`/audit-log/list?action=data:export`, ada.cookie);
    expect(listed.json.total).toBe(1);
    expect((await app.get(`/audit-log/list?origin=client`, ada.cookie)).json.total).toBe(1);
  });

  it("insert: accepts outcome or the peer's status words; body.userId must be the caller", async () => {
    expect((await app.post("/audit-log/insert", { action: "report:view", outcome: "failure" }, ada.cookie)).json.outcome).toBe("failure");
    expect((await app.post("/audit-log/insert", { action: "report:view", status: "failed" }, ada.cookie)).json.status).toBe("failed");
    expect((await app.post("/audit-log/insert", { action: "report:view", status: "success", userId: ada.userId }, ada.cookie)).status).toBe(200);
    const forged = await app.post("/audit-log/insert", { action: "report:view", status: "success", userId: bob.userId }, ada.cookie);
    expect([forged.status, forged.json.code]).toEqual([403, "NOT_ALLOWED_TO_INSERT_FOR_ANOTHER_USER"]);
  });

  it("insert: a signed-in user cannot forge admin:* or high/critical records (403), and the attempt is recorded", async () => {
    app.t.reset();
    const forged = await app.post("/audit-log/insert", { action: "admin:ban-user", status: "success", severity: "critical" }, bob.cookie);
    expect([forged.status, forged.json.code]).toEqual([403, "NOT_ALLOWED_TO_INSERT_PRIVILEGED_AUDIT_LOG"]);
    expect((await app.post("/audit-log/insert", { action: "admin:ban-user", status: "success" }, bob.cookie)).status).toBe(403);
    expect((await app.post("/audit-log/insert", { action: "custom:thing", status: "success", severity: "high" }, bob.cookie)).status).toBe(403);
    expect(app.t.findAll({ action: "admin:ban-user" })).toHaveLength(0);
    const attempts = app.t.findAll({ action: "audit-log:insert" });
    expect(attempts).toHaveLength(3);
    expect(attempts[0].attributes).toMatchObject({
      "audit.outcome": "failure",
      "user.id": bob.userId,
      "error.type": "NOT_ALLOWED_TO_INSERT_PRIVILEGED_AUDIT_LOG",
      "audit.metadata.attemptedAction": "admin:ban-user",
    });
    expect(attempts[0].attributes["audit.origin"]).toBeUndefined();
    const bobs = await app.get(`/audit-log/list?action=admin:ban-user`, bob.cookie);
    expect(bobs.json.total).toBe(0);
    // inference alone does not raise a user's claim to high: delete-* would be high, it is medium
    const inferred = await app.post("/audit-log/insert", { action: "delete-draft", status: "success" }, bob.cookie);
    expect(inferred.json.severity).toBe("medium");
  });

  it("insert: an admin may record admin:* and critical events", async () => {
    const r = await app.post("/audit-log/insert", { action: "admin:user-export", status: "success", severity: "critical", metadata: { exportedCount: 500 } }, boss.cookie);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ action: "admin:user-export", severity: "critical", origin: "client", userId: boss.userId });
    const inferred = await app.post("/audit-log/insert", { action: "delete-everything", status: "success" }, boss.cookie);
    expect(inferred.json.severity).toBe("high");
  });

  it("insert: clear 400s for a bad action, too much or too deep metadata, a wrong type; status defaults to success", async () => {
    const code = async (body: unknown) => {
      const r = await app.post("/audit-log/insert", body, ada.cookie);
      return [r.status, r.json.code];
    };
    expect(await code({ action: "", status: "success" })).toEqual([400, "INVALID_ACTION"]);
    expect(await code({ action: "has spaces", status: "success" })).toEqual([400, "INVALID_ACTION"]);
    expect(await code({ action: "x".repeat(201), status: "success" })).toEqual([400, "INVALID_ACTION"]);
    const defaulted = await app.post("/audit-log/insert", { action: "report:view" }, ada.cookie);
    expect([defaulted.status, defaulted.json.success, defaulted.json.status, defaulted.json.outcome]).toEqual([200, true, "success", "success"]);
    expect(await code({ action: "report:view", metadata: { a: { b: { c: { d: { e: { f: 1 } } } } } } })).toEqual([400, "METADATA_TOO_DEEP"]);
    expect((await code({ action: "report:view", metadata: { a: { b: { c: { d: { e: 1 } } } } } }))[0]).toBe(200);
    expect(await code({ action: "report:view", status: "success", metadata: { blob: "x".repeat(8 * 1024) } })).toEqual([400, "METADATA_TOO_LARGE"]);
    expect((await code({ action: "report:view", status: "success", metadata: { blob: "x".repeat(8 * 1024 - 20) } }))[0]).toBe(200);
    expect(await code({ action: 5, status: "success" })).toEqual([400, "VALIDATION_ERROR"]);
    expect(await code({ action: "report:view", status: "success", severity: "extreme" })).toEqual([400, "VALIDATION_ERROR"]);
  });

  it("reads are not audited: list and get leave no records", async () => {
    app.t.reset();
    await app.get("/audit-log/list", ada.cookie);
    await app.get("/audit-log/whatever", ada.cookie);
    await app.get("/get-session", ada.cookie);
    expect(app.t.records()).toHaveLength(0);
  });

  it("auth.api works too: listAuditLogs with headers", async () => {
    const page = await app.auth.api.listAuditLogs({ headers: new Headers({ cookie: ada.cookie }), query: { action: "sign-up:email" } });
    expect(page.entries).toHaveLength(1);
    expect(page.entries[0].createdAt).toBeInstanceOf(Date);
  });

  it("the client plugin: peer names (listAuditLogs, getAuditLog, insertAuditLog) and inferred paths against the real server", async () => {
    const client = createAuthClient({
      baseURL: `${BASE_URL}/api/auth`,
      plugins: [auditLogClient()],
      fetchOptions: {
        customFetchImpl: (url, init) => app.auth.handler(new Request(url, init)),
        headers: { cookie: ada.cookie, origin: BASE_URL, "x-forwarded-for": "198.51.100.9", "user-agent": USER_AGENT },
      },
    });
    const list = await client.auditLog.listAuditLogs({ query: { status: "failed", limit: 20 } });
    expect(list.error).toBeNull();
    expect(list.data?.entries.map((e) => e.error)).toContain("INVALID_PASSWORD");
    const inserted = await client.auditLog.insertAuditLog({ action: "report:download", status: "success", metadata: { report: "q3" } });
    expect(inserted.error).toBeNull();
    expect(inserted.data?.success).toBe(true);
    expect(inserted.data).toMatchObject({ action: "report:download", origin: "client", userId: ada.userId });
    const one = await client.auditLog.getAuditLog({ params: { id: inserted.data!.id! } });
    expect(one.data).toMatchObject({ id: inserted.data!.id, metadata: { report: "q3" } });
    expect(one.data?.createdAt).toBeInstanceOf(Date);
    const inferred = await client.auditLog.list({ query: { action: "report:download" } });
    expect(inferred.data?.total).toBe(1);
    const viaInsert = await client.auditLog.insert({ action: "report:print", status: "success" });
    expect(viaInsert.data?.origin).toBe("client");
    const forged = await client.auditLog.insertAuditLog({ action: "admin:ban-user", status: "success", severity: "critical" });
    expect(forged.error?.status).toBe(403);
    expect(forged.error?.code).toBe("NOT_ALLOWED_TO_INSERT_PRIVILEGED_AUDIT_LOG");
  });
});

describe("audit-log endpoints: options", () => {
  it("zero config: auditLog() with no provider at all stores to the database and the list endpoint works", async () => {
    const app = await createStoreApp("sqlite", { plugins: [auditLog()] });
    const r = await app.post("/sign-up/email", { email: "zero@example.com", password: PASSWORD, name: "Zero" });
    const list = await app.get("/audit-log/list", r.cookie);
    expect(list.status).toBe(200);
    expect(list.json.entries.map((e: { action: string }) => e.action)).toEqual(["sign-up:email"]);
  });

  it("exposeUserAgent: true returns the stored user agent", async () => {
    const app = await setup("sqlite", { exposeUserAgent: true });
    const { cookie } = await app.signUp("ua@example.com");
    const list = await app.get("/audit-log/list", cookie);
    expect(list.json.entries[0].userAgent).toBe(USER_AGENT);
  });

  it("the admin plugin's adminUserIds count, and canReadAll replaces the rule", async () => {
    const adminUserIds: string[] = [];
    const app = await setup("memory", {}, { adminUserIds });
    const ada = await app.signUp("ada@example.com");
    const root = await app.signUp("root@example.com");
    expect((await app.get(`/audit-log/list?userId=${ada.userId}`, root.cookie)).status).toBe(403);
    adminUserIds.push(root.userId);
    expect((await app.get(`/audit-log/list?userId=${ada.userId}`, root.cookie)).status).toBe(200);

    const custom = await setup("memory", { canReadAll: (session) => session.user.email === "auditor@example.com" });
    const eve = await custom.signUp("eve@example.com");
    const auditor = await custom.signUp("auditor@example.com");
    expect((await custom.get(`/audit-log/list?userId=${eve.userId}`, auditor.cookie)).status).toBe(200);
    expect((await custom.get(`/audit-log/list?userId=${auditor.userId}`, eve.cookie)).status).toBe(403);
  });

  it("insert: false turns the endpoint off; maxMetadataBytes changes the cap", async () => {
    const off = await setup("memory", { insert: false });
    const a = await off.signUp("off@example.com");
    expect((await off.post("/audit-log/insert", { action: "x:y", status: "success" }, a.cookie)).status).toBe(404);
    const small = await setup("memory", { insert: { maxMetadataBytes: 16 } });
    const b = await small.signUp("small@example.com");
    expect((await small.post("/audit-log/insert", { action: "x:y", status: "success", metadata: { k: "0123456789" } }, b.cookie)).json.code).toBe("METADATA_TOO_LARGE");
  });

  it("the endpoints are rate limited by the plugin's rules when better-auth's limiter is on", async () => {
    const t = createTestAudit();
    const app = await createStoreApp("memory", {
      rateLimit: { enabled: true, storage: "memory" },
      plugins: [auditLog({ loggerProvider: t.provider, rateLimit: { insert: { window: 60, max: 2 }, read: { window: 60, max: 3 } } })],
    });
    const r = await app.post("/sign-up/email", { email: "rl@example.com", password: PASSWORD, name: "Rl" });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await app.post("/audit-log/insert", { action: "x:y", status: "success" }, r.cookie)).status);
    expect(statuses).toEqual([200, 200, 429]);
    const reads = [];
    for (let i = 0; i < 4; i++) reads.push((await app.get("/audit-log/list", r.cookie)).status);
    expect(reads).toEqual([200, 200, 200, 429]);
  });
});
