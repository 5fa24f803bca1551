import { afterEach, describe, expect, it, vi } from "vitest";
import { diag, DiagLogLevel } from "@opentelemetry/api";
import { admin } from "better-auth/plugins";
import { auditLog, deleteExpiredAuditLogs } from "otel-auth-audit/better-auth";
import { DatabaseExporter, RetentionSweeper, type AuditLogEntry, type AuditQuery, type AuditStorage } from "otel-auth-audit";
import { createTestAudit } from "otel-auth-audit/testing";
import { BACKENDS, createStoreApp, settle, type Backend } from "./helpers/store-app.js";

const PASSWORD = "correct-horse-battery-1";
const DAY = 24 * 60 * 60 * 1000;

async function setup(backend: Backend, pluginOptions: Parameters<typeof auditLog>[0] = {}) {
  const t = createTestAudit();
  const plugin = auditLog({ loggerProvider: t.provider, ...pluginOptions });
  const app = await createStoreApp(backend, { user: { deleteUser: { enabled: true } }, plugins: [plugin, admin()] });
  const signUp = async (email: string) => {
    const r = await app.post("/sign-up/email", { email, password: PASSWORD, name: "Someone" });
    expect(r.status).toBe(200);
    return { cookie: r.cookie!, userId: r.json.user.id as string };
  };
  return { t, plugin, ...app, signUp };
}

/** A diag logger that collects errors (hooks, exporters, sweeps report there). */
function collectDiagErrors() {
  const errors: unknown[][] = [];
  const noop = () => {};
  diag.setLogger({ error: (...args: unknown[]) => void errors.push(args), warn: noop, info: noop, debug: noop, verbose: noop }, { logLevel: DiagLogLevel.ERROR, suppressOverrideMessage: true });
  return errors;
}

afterEach(() => {
  diag.disable();
  vi.useRealTimers();
});

describe("schema and migrations (node:sqlite)", () => {
  it("getMigrations creates auditLog with the peer's columns and ours, the FK to user ON DELETE SET NULL, and indexes on userId, action, createdAt", async () => {
    const app = await setup("sqlite");
    const db = app.database!;
    const columns = db.prepare(`PRAGMA table_info("auditLog")`).all().map((c) => c.name);
    expect(columns).toEqual(expect.arrayContaining(["id", "userId", "action", "status", "severity", "ipAddress", "userAgent", "metadata", "createdAt"]));
    expect(columns).toEqual(expect.arrayContaining(["sessionId", "actorId", "error", "origin", "eventName", "method", "path", "statusCode"]));
    const fks = db.prepare(`PRAGMA foreign_key_list("auditLog")`).all();
    expect(fks).toEqual([expect.objectContaining({ table: "user", from: "userId", to: "id", on_delete: "SET NULL" })]);
    const indexed = db
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'auditLog' AND sql IS NOT NULL`)
      .all()
      .flatMap((i) => db.prepare(`PRAGMA index_info("${i.name as string}")`).all().map((c) => c.name));
    expect(indexed.sort()).toEqual(["action", "createdAt", "userId"]);
  });

  it("schema.auditLog.modelName renames the table; the store and the endpoints follow it", async () => {
    const app = await setup("sqlite", { schema: { auditLog: { modelName: "audit_trail" } } });
    const { cookie } = await app.signUp("renamed@example.com");
    const tables = app.database!.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all().map((t) => t.name);
    expect(tables).toContain("audit_trail");
    expect(tables).not.toContain("auditLog");
    expect((await app.get("/audit-log/list", cookie)).json.total).toBe(1);
    expect(app.database!.prepare(`SELECT action FROM audit_trail`).all()).toEqual([expect.objectContaining({ action: "sign-up:email" })]);
  });

  it("store: false with no storage declares no table and the read endpoints answer 501", async () => {
    const app = await setup("sqlite", { store: false });
    const { cookie } = await app.signUp("nostore@example.com");
    const tables = app.database!.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all().map((t) => t.name);
    expect(tables).not.toContain("auditLog");
    const r = await app.get("/audit-log/list", cookie);
    expect([r.status, r.json.code]).toEqual([501, "AUDIT_LOG_STORE_DISABLED"]);
    expect(app.t.find({ action: "sign-up:email" })).toBeDefined();
  });

  it("a record whose user no longer exists is stored with userId null, not lost to the FK", async () => {
    const app = await setup("sqlite");
    await app.auth.$context;
    const event = await app.plugin.audit.logger.record({ action: "ghost:event", outcome: "success", userId: "no-such-user" });
    const stored = await app.plugin.audit.get(event!.id);
    expect(stored).toMatchObject({ action: "ghost:event", userId: null });
  });
});

describe.each(BACKENDS)("the database store on %s", (backend) => {
  it("deleting a user keeps their rows with userId null, the delete-user record included", async () => {
    const app = await setup(backend);
    const ada = await app.signUp("ada@example.com");
    const bob = await app.signUp("bob@example.com");
    await app.post("/change-password", { currentPassword: PASSWORD, newPassword: "another-password-2" }, ada.cookie);
    const wrong = await app.post("/delete-user", { password: "wrong-password-xx" }, ada.cookie);
    expect(wrong.status).toBe(400);
    expect((await app.post("/delete-user", { password: "another-password-2" }, ada.cookie)).status).toBe(200);
    const { entries } = await app.plugin.audit.list({ limit: 500 });
    const actions = entries.map((e) => [e.action, e.outcome, e.userId === ada.userId ? "ada" : e.userId === bob.userId ? "bob" : e.userId]);
    expect(actions.reverse()).toEqual([
      ["sign-up:email", "success", null],
      ["sign-up:email", "success", "bob"],
      ["change-password", "success", null],
      ["delete-user", "failure", null],
      ["delete-user", "success", null],
    ]);
    if (app.database) {
      expect(app.database.prepare(`SELECT count(*) AS n FROM auditLog WHERE userId IS NULL`).get()).toEqual({ n: 4 });
    }
  });

  it("at-least-once: the same record exported twice (or concurrently) is stored once, under its audit.id", async () => {
    const app = await setup(backend);
    const ctx = await app.auth.$context;
    const exporter = new DatabaseExporter({ adapter: ctx.adapter as never });
    const source = createTestAudit();
    await source.audit.record({ action: "replay:test", outcome: "success" });
    const record = source.records()[0];
    const results: number[] = [];
    exporter.export([record], (r) => results.push(r.code));
    exporter.export([record], (r) => results.push(r.code));
    await exporter.forceFlush();
    exporter.export([record], (r) => results.push(r.code));
    await exporter.forceFlush();
    expect(results).toEqual([0, 0, 0]);
    const page = await app.plugin.audit.list({ action: "replay:test" });
    expect(page.total).toBe(1);
    expect(page.entries[0].id).toBe(record.attributes["audit.id"]);
  });

  it("retention: a sweep deletes exactly the rows older than `days`", async () => {
    const app = await setup(backend, { retention: { days: 30 } });
    await app.auth.$context;
    const now = Date.now();
    const at = (daysAgo: number) => new Date(now - daysAgo * DAY);
    const { logger } = app.plugin.audit;
    for (const [name, daysAgo] of [["old-1", 400], ["old-2", 31], ["edge-young", 29.99], ["young", 1], ["fresh", 0]] as const) {
      await logger.record({ action: `retention:${name}`, outcome: "success", time: at(daysAgo) });
    }
    await app.plugin.audit.flush();
    await settle();
    const deleted = await app.plugin.audit.sweep();
    const left = (await app.plugin.audit.list({ limit: 500 })).entries.map((e) => e.action).sort();
    expect(left).toEqual(["retention:edge-young", "retention:fresh", "retention:young"]);
    // the opportunistic sweep after the first write may already have taken some; together: exactly two
    expect(deleted).toBeLessThanOrEqual(2);
  });

  it("retention: an unref'd timer sweeps once per interval; writes in between do not sweep again", async () => {
    vi.useFakeTimers({ toFake: ["Date", "setInterval", "clearInterval"], now: new Date("2026-06-01T00:00:00Z") });
    const app = await setup(backend, { retention: { days: 30, intervalMs: 60 * 60 * 1000 } });
    await app.signUp("first@example.com"); // the first write sweeps (nothing is old yet)
    await app.plugin.audit.flush();
    await settle();
    const { logger } = app.plugin.audit;
    await logger.record({ action: "retention:old", outcome: "success", time: new Date(Date.now() - 31 * DAY) });
    await logger.record({ action: "retention:young", outcome: "success", time: new Date(Date.now() - 29 * DAY) });
    await app.plugin.audit.flush();
    await settle();
    // within the interval: the writes did not sweep, the old row is still there
    expect((await app.plugin.audit.list({ action: "retention:old" })).total).toBe(1);
    await vi.advanceTimersByTimeAsync(60 * 60 * 1000);
    await settle();
    expect((await app.plugin.audit.list({ action: "retention:old" })).total).toBe(0);
    expect((await app.plugin.audit.list({ action: "retention:young" })).total).toBe(1);
    expect((await app.plugin.audit.list({ action: "sign-up:email" })).total).toBe(1);
  });

  it("deleteExpiredAuditLogs(await auth.$context, { days }) for a scheduler of one's own", async () => {
    const app = await setup(backend);
    const ctx = await app.auth.$context;
    await app.plugin.audit.logger.record({ action: "cron:old", outcome: "success", time: new Date(Date.now() - 100 * DAY) });
    await app.plugin.audit.logger.record({ action: "cron:new", outcome: "success" });
    await app.plugin.audit.flush();
    expect(await deleteExpiredAuditLogs(ctx, { days: 90 })).toBe(1);
    expect((await app.plugin.audit.list({})).entries.map((e) => e.action)).toEqual(["cron:new"]);
  });
});

describe("RetentionSweeper", () => {
  it("sweeps at most once per interval, with the cutoff days before now", async () => {
    let now = Date.parse("2026-06-01T00:00:00Z");
    const cutoffs: Date[] = [];
    const sweeper = new RetentionSweeper({ days: 10, intervalMs: 1000, now: () => now, deleteBefore: async (cutoff) => (cutoffs.push(cutoff), 3) });
    expect(await sweeper.maybeSweep()).toBe(3);
    expect(await sweeper.maybeSweep()).toBe(0);
    now += 999;
    expect(await sweeper.maybeSweep()).toBe(0);
    now += 1;
    expect(await sweeper.maybeSweep()).toBe(3);
    expect(cutoffs.map((c) => c.toISOString())).toEqual(["2026-05-22T00:00:00.000Z", "2026-05-22T00:00:01.000Z"]);
  });

  it("its timer does not keep the process alive", () => {
    const spy = vi.spyOn(globalThis, "setInterval");
    const sweeper = new RetentionSweeper({ days: 1, deleteBefore: async () => 0 });
    sweeper.start();
    const timer = spy.mock.results[0].value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    sweeper.stop();
    spy.mockRestore();
  });

  it("a failed sweep goes to diag and is tried again next interval", async () => {
    const errors = collectDiagErrors();
    let now = 0;
    let calls = 0;
    const sweeper = new RetentionSweeper({ days: 1, intervalMs: 10, now: () => now, deleteBefore: async () => (calls++, Promise.reject(new Error("db down"))) });
    expect(await sweeper.maybeSweep()).toBe(0);
    now = 10;
    await sweeper.maybeSweep();
    expect(calls).toBe(2);
    expect(errors).toHaveLength(2);
  });

  it("rejects a retention it cannot honour at startup", () => {
    expect(() => auditLog({ retention: { days: 0 } })).toThrow(/days/);
    expect(() => auditLog({ storage: { write() {} }, retention: { days: 30 } })).toThrow(/deleteOlderThan/);
    expect(() => auditLog({ storage: { write() {}, deleteOlderThan: () => 0 }, retention: { days: 30 } })).not.toThrow();
  });
});

/** better-auth-audit-logs' MemoryStorage, as a user would port it: the peer's storage shape. */
function memoryStorage(options: { delayMs?: number } = {}) {
  const entries: AuditLogEntry[] = [];
  const storage: AuditStorage & { entries: AuditLogEntry[] } = {
    entries,
    async write(entry) {
      if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
      if (!entries.some((e) => e.id === entry.id)) entries.push(entry);
    },
    read(query: AuditQuery) {
      const hits = entries.filter((e) => (query.userId === undefined || e.userId === query.userId) && (query.action === undefined || e.action === query.action)).reverse();
      return { entries: hits.slice(query.offset ?? 0, (query.offset ?? 0) + (query.limit ?? 50)), total: hits.length };
    },
    readById: (id) => entries.find((e) => e.id === id),
  };
  return storage;
}

describe("custom storage (better-auth-audit-logs' shape)", () => {
  it("receives every entry and serves the endpoints; the database is not used", async () => {
    const storage = memoryStorage();
    const app = await setup("sqlite", { storage });
    const { cookie, userId } = await app.signUp("custom@example.com");
    await app.post("/sign-in/email", { email: "custom@example.com", password: "wrong-password-xx" });
    await app.plugin.audit.flush();
    expect(storage.entries.map((e) => [e.action, e.status])).toEqual([
      ["sign-up:email", "success"],
      ["sign-in:email", "failed"],
    ]);
    expect(storage.entries[0]).toMatchObject({ userId, userAgent: expect.any(String), origin: "server" });
    const list = await app.get("/audit-log/list", cookie);
    expect(list.json.entries.map((e: { action: string }) => e.action)).toEqual(["sign-up:email"]);
    expect(list.json.entries[0]).not.toHaveProperty("userAgent");
    expect((await app.get(`/audit-log/${storage.entries[0].id}`, cookie)).status).toBe(200);
    const tables = app.database!.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all().map((t) => t.name);
    expect(tables).not.toContain("auditLog");
  });

  it("a storage without read(): writes work, reads answer 501", async () => {
    const written: AuditLogEntry[] = [];
    const app = await setup("memory", { storage: { write: (e) => void written.push(e) } });
    const { cookie } = await app.signUp("writeonly@example.com");
    await app.plugin.audit.flush();
    expect(written).toHaveLength(1);
    expect((await app.get("/audit-log/list", cookie)).status).toBe(501);
  });
});

describe("hooks and modes", () => {
  it("beforeLog may suppress (null) or edit; both reach OTLP and the store alike", async () => {
    const app = await setup("sqlite", {
      beforeLog: (event) => {
        if (event.action === "sign-in:email") return null;
        return { ...event, metadata: { ...event.metadata, tenant: "acme" } };
      },
    });
    const { cookie } = await app.signUp("hooks@example.com");
    await app.post("/sign-in/email", { email: "hooks@example.com", password: PASSWORD });
    expect(app.t.find({ action: "sign-in:email" })).toBeUndefined();
    const list = await app.get("/audit-log/list", cookie);
    expect(list.json.entries.map((e: { action: string; metadata: unknown }) => [e.action, e.metadata])).toEqual([["sign-up:email", { tenant: "acme" }]]);
    expect(app.t.find({ action: "sign-up:email" })?.attributes["audit.metadata.tenant"]).toBe("acme");
  });

  it("afterLog sees each event once it is handed to the exporters", async () => {
    const seen: string[] = [];
    const app = await setup("memory", { afterLog: (event) => void seen.push(event.action) });
    await app.signUp("after@example.com");
    expect(seen).toEqual(["sign-up:email"]);
  });

  it("errors in beforeLog, afterLog and the store go to diag; the auth request still succeeds and the record is kept", async () => {
    const errors = collectDiagErrors();
    const app = await setup("memory", {
      beforeLog: () => {
        throw new Error("beforeLog bug");
      },
      afterLog: async () => {
        throw new Error("afterLog bug");
      },
      storage: {
        write: async () => {
          throw new Error("storage down");
        },
      },
      store: true,
    });
    const r = await app.post("/sign-up/email", { email: "errors@example.com", password: PASSWORD, name: "E" });
    expect(r.status).toBe(200);
    await app.plugin.audit.flush();
    await settle();
    expect(app.t.find({ action: "sign-up:email" })).toBeDefined();
    expect((await app.plugin.audit.list({ action: "sign-up:email" })).total).toBe(1);
    const messages = errors.map((e) => String(e[0]) + " " + String(e[1] ?? ""));
    expect(messages.some((m) => m.includes("beforeLog"))).toBe(true);
    expect(messages.some((m) => m.includes("afterLog"))).toBe(true);
    expect(messages.some((m) => m.includes("storage down"))).toBe(true);
  });

  // timed on update-user (no password hashing), against a delay far above its cost on a busy machine
  const SLOW_MS = 1000;
  const timed = async (fn: () => Promise<unknown>) => {
    const start = performance.now();
    await fn();
    return performance.now() - start;
  };

  it("nonBlocking: a slow beforeLog does not delay the response; reads still see the record", async () => {
    const slow = async () => {
      await new Promise((r) => setTimeout(r, SLOW_MS));
    };
    const blocking = await setup("memory", { beforeLog: slow });
    const b = await blocking.signUp("blocking@example.com");
    expect(await timed(() => blocking.post("/update-user", { name: "Blocked" }, b.cookie))).toBeGreaterThanOrEqual(SLOW_MS - 10);

    const app = await setup("memory", { beforeLog: slow, nonBlocking: true });
    const { cookie } = await app.signUp("fast@example.com");
    expect(await timed(() => app.post("/update-user", { name: "Fast" }, cookie))).toBeLessThan(SLOW_MS / 2);
    expect(app.t.find({ action: "update-user" })).toBeUndefined();
    const list = await app.get("/audit-log/list", cookie);
    expect(list.json.entries.map((e: { action: string }) => e.action)).toEqual(["update-user", "sign-up:email"]);
  });

  it("a slow store never delays the response, in either mode; reads wait for it", async () => {
    for (const nonBlocking of [false, true]) {
      const storage = memoryStorage({ delayMs: SLOW_MS });
      const app = await setup("memory", { storage, nonBlocking });
      const { cookie } = await app.signUp(`slow-${nonBlocking}@example.com`);
      expect(await timed(() => app.post("/update-user", { name: "Slow" }, cookie))).toBeLessThan(SLOW_MS / 2);
      expect(storage.entries.map((e) => e.action)).not.toContain("update-user");
      const list = await app.get("/audit-log/list", cookie);
      expect(list.json.total).toBe(2);
    }
  });

  it("storeProcessors run on the store's copy only, before it is written (where the RedactionProcessor goes)", async () => {
    const app = await setup("memory", {
      storeProcessors: [
        {
          onEmit: (record) => record.setAttribute("client.address", "[redacted]"),
          forceFlush: async () => {},
          shutdown: async () => {},
        },
      ],
    });
    const { cookie } = await app.signUp("proc@example.com");
    const list = await app.get("/audit-log/list", cookie);
    expect(list.json.entries[0].ipAddress).toBe("[redacted]");
    expect(app.t.find({ action: "sign-up:email" })?.attributes["client.address"]).toBe("203.0.113.7");
  });

  it("the store's copy is redacted by default: nested credentials never reach the database", async () => {
    const app = await setup("sqlite", { capture: { requestBody: true } });
    const { cookie } = await app.signUp("nested@example.com");
    await app.post("/update-user", { name: "N", profile: { token: "tok-canary-123", settings: { apiKey: "key-canary-456" } } }, cookie);
    await app.plugin.audit.flush();
    const rows = app.database!.prepare("SELECT * FROM auditLog").all();
    expect(rows.length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(rows)).not.toMatch(/tok-canary-123|key-canary-456|correct-horse-battery-1/);
  });

  it("piiRedaction maps onto the RedactionProcessor of the store: hashed emails and the named fields", async () => {
    const app = await setup("sqlite", { capture: { requestBody: true }, piiRedaction: { enabled: true, strategy: "hash", fields: ["ipAddress"] } });
    await app.post("/sign-in/email", { email: "pii@example.com", password: "wrong-password-1" });
    await app.plugin.audit.flush();
    const [row] = app.database!.prepare("SELECT * FROM auditLog").all() as Array<{ ipAddress: string; metadata: string }>;
    // better-auth-audit-logs' form: the 64 hex digits of SHA-256 (HMAC with a key)
    expect(row.ipAddress).toMatch(/^[0-9a-f]{64}$/);
    expect(row.metadata).not.toContain("pii@example.com");
    // the OTLP copy goes through its own provider's processors, untouched by the store's
    expect(app.t.find({ action: "sign-in:email" })?.attributes["client.address"]).toBe("203.0.113.7");
  });
});
