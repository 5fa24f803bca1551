/**
 * A better-auth-audit-logs 0.3.0 user switching over: its README's code, unchanged but for the
 * import paths, run through a real better-auth 1.7 (node:sqlite and the memory adapter).
 */
import { describe, expect, it } from "vitest";
import { createAuthClient } from "better-auth/client";
import {
  auditLog,
  MemoryStorage,
  type AuditLogEntry,
  type AuditLogStorage,
  type StorageReadOptions,
  type StorageReadResult,
} from "otel-auth-audit/better-auth";
import { auditLogClient } from "otel-auth-audit/better-auth/client";
import { createTestAudit } from "otel-auth-audit/testing";
import { AuditLogger, AuditOptionsError, AuthAuditInstrumentation } from "otel-auth-audit";
import { auditLogFor } from "otel-auth-audit/better-auth";
import { BASE_URL, USER_AGENT } from "./helpers/auth-app.js";
import { BACKENDS, createStoreApp, settle, type Backend } from "./helpers/store-app.js";

const PASSWORD = "correct-horse-battery-1";

async function app(backend: Backend, options: Parameters<typeof auditLog>[0], authOptions: Record<string, unknown> = {}) {
  const t = createTestAudit();
  const plugin = auditLog({ loggerProvider: t.provider, ...options });
  const a = await createStoreApp(backend, { ...authOptions, plugins: [plugin] });
  const signUp = async (email: string) => {
    const r = await a.post("/sign-up/email", { email, password: PASSWORD, name: "Someone" });
    expect(r.status).toBe(200);
    return { cookie: r.cookie!, userId: r.json.user.id as string };
  };
  const client = (cookie: string) =>
    createAuthClient({
      baseURL: `${BASE_URL}/api/auth`,
      plugins: [auditLogClient()],
      fetchOptions: {
        customFetchImpl: (url, init) => a.auth.handler(new Request(url, init)),
        headers: { cookie, origin: BASE_URL, "x-forwarded-for": "198.51.100.9", "user-agent": USER_AGENT },
      },
    });
  return { ...a, plugin, t, signUp, client };
}

describe("the peer README's configuration block, as written", () => {
  it("is accepted, every option it documents (and a table name)", async () => {
    const analytics = { track: async (_name: string, _entry: unknown) => {} };
    const plugin = auditLog({
      enabled: true, // disable without removing the plugin
      nonBlocking: false, // fire-and-forget — never blocks auth responses
      paths: ["/sign-in/email", { path: "/delete-user", config: { severity: "high", capture: { requestBody: true } } }],
      capture: { ipAddress: true, userAgent: true, requestBody: false },
      piiRedaction: { enabled: false, strategy: "mask", fields: ["password"] },
      retention: { enabled: false, days: 90 },
      beforeLog: async (entry) => {
        if (entry.userId === "service-account") return null;
        return entry;
      },
      afterLog: async (entry) => {
        await analytics.track("auth.event", entry);
      },
      storage: undefined,
      schema: { auditLog: { modelName: "your_table_name" } },
      metadataLimits: { maxBytes: 64 * 1024, maxDepth: 5 },
      beforePaths: ["/sign-out", "/delete-user"],
      onWriteError: (error, entry) => void [error, entry.status],
    });
    expect(plugin.id).toBe("audit-log");
  });
});

describe("an option that would be ignored is refused at startup", () => {
  const hooks = { beforeLog: async (e: unknown) => e, afterLog: () => {}, severity: { "sign-in:email": "high" }, severityMapping: {}, loggerProvider: createTestAudit().provider };
  it.each(Object.keys(hooks))("%s beside a ready logger (auditLog({ logger }), auditLogFor, the instrumentation's betterAuth)", (key) => {
    const option = { [key]: hooks[key as keyof typeof hooks] } as never;
    const logger = new AuditLogger({ loggerProvider: createTestAudit().provider });
    const refusals = [
      () => auditLog({ logger, ...(option as object) }),
      () => auditLogFor(new AuthAuditInstrumentation({ enabled: false }), option),
      ...(key === "loggerProvider" ? [] : [() => new AuthAuditInstrumentation({ enabled: false, betterAuth: option })]),
    ];
    for (const refuse of refusals) {
      let error: unknown;
      try {
        refuse();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(AuditOptionsError);
      expect((error as AuditOptionsError).message).toContain(key);
    }
  });
});

const hookEntryOf = (seen: Record<string, unknown>[], action: string) => seen.find((e) => e.action === action);

describe.each(BACKENDS)("%s: a peer user's code, unchanged", (backend) => {
  it("beforeLog and afterLog read the peer's fields: status, createdAt, metadata as an object, id", async () => {
    const seenBefore: Record<string, unknown>[] = [];
    const seenAfter: Record<string, unknown>[] = [];
    const x = await app(backend, {
      beforeLog: async (entry) => {
        seenBefore.push({ ...entry });
        // the peer's idioms: read status, edit by spreading, add to metadata in place
        if (entry.status === "failed") return { ...entry, severity: "critical" };
        entry.metadata.tenant = "acme";
        return entry;
      },
      afterLog: async (entry) => {
        seenAfter.push({ ...entry, iso: entry.createdAt.toISOString() });
      },
    });
    const { cookie } = await x.signUp("ada@example.com");
    await x.post("/sign-in/email", { email: "ada@example.com", password: "wrong-password-000" });
    await x.plugin.audit.flush();
    const failed = hookEntryOf(seenBefore, "sign-in:email")!;
    expect(failed).toMatchObject({ status: "failed", outcome: "failure", metadata: {} });
    expect(failed.createdAt).toBeInstanceOf(Date);
    expect(hookEntryOf(seenAfter, "sign-in:email")).toMatchObject({ status: "failed", severity: "critical", id: expect.any(String), iso: expect.any(String) });
    const signUp = hookEntryOf(seenAfter, "sign-up:email")!;
    expect(signUp).toMatchObject({ status: "success", metadata: { tenant: "acme" } });
    // what was recorded: the edits, under our names, with no peer-only keys leaking into the record
    const records = x.t.records();
    const failure = records.find((r) => r.attributes["audit.action"] === "sign-in:email")!;
    expect(failure.attributes["audit.severity"]).toBe("critical");
    expect(failure.attributes["audit.outcome"]).toBe("failure");
    const signUpRecord = records.find((r) => r.attributes["audit.action"] === "sign-up:email")!;
    expect(signUpRecord.attributes["audit.metadata.tenant"]).toBe("acme");
    for (const r of records) expect(Object.keys(r.attributes).filter((k) => /status$|createdAt/.test(k) && !k.includes("status_code"))).toEqual([]);
    const { data } = await x.client(cookie).auditLog.listAuditLogs({ query: { action: "sign-up:email" } });
    expect(data?.entries[0]?.metadata).toMatchObject({ tenant: "acme" });
  });

  it("a beforeLog that changes status or createdAt, or builds the peer's entry from scratch, is recorded as it said", async () => {
    const when = new Date("2026-01-02T03:04:05.000Z");
    const x = await app(backend, {
      beforeLog: async (entry) => {
        if (entry.action === "sign-up:email") {
          entry.status = "failed";
          return entry;
        }
        if (entry.action === "sign-in:email") {
          const { userId, action, severity, ipAddress, userAgent, metadata } = entry;
          // the peer's Omit<AuditLogEntry, "id">: no outcome, no time, no id
          return { userId, action, status: "success", severity, ipAddress, userAgent, metadata: { ...metadata, rebuilt: true }, createdAt: when } as never;
        }
        return entry;
      },
    });
    await x.signUp("bo@example.com");
    await x.post("/sign-in/email", { email: "bo@example.com", password: PASSWORD });
    await x.plugin.audit.flush();
    const records = x.t.records();
    const signUp = records.find((r) => r.attributes["audit.action"] === "sign-up:email")!;
    expect(signUp.attributes["audit.outcome"]).toBe("failure");
    const signIn = records.find((r) => r.attributes["audit.action"] === "sign-in:email")!;
    expect(signIn.attributes["audit.before_log.error"]).toBeUndefined();
    expect(signIn.attributes["audit.metadata.rebuilt"]).toBe(true);
    expect(signIn.attributes["audit.outcome"]).toBe("success");
    const stored = await x.plugin.audit.list({ action: "sign-in:email", all: true } as never);
    expect(stored.entries[0]?.createdAt.toISOString()).toBe(when.toISOString());
  });

  it("a custom storage written for the peer and the client calls of its README", async () => {
    const rows: AuditLogEntry[] = [];
    const calls: StorageReadOptions[] = [];
    const storage: AuditLogStorage = {
      async write(entry) {
        rows.push(entry);
      },
      async read(options): Promise<StorageReadResult> {
        calls.push(options);
        const hit = rows.filter(
          (r) =>
            (!options.userId || r.userId === options.userId) &&
            (!options.status || r.status === options.status) &&
            (!options.action || r.action === options.action) &&
            (!options.from || r.createdAt >= options.from) &&
            (!options.to || r.createdAt <= options.to),
        );
        return { entries: hit.slice(options.offset, options.offset + options.limit), total: hit.length };
      },
      async readById(id) {
        return rows.find((r) => r.id === id) ?? null;
      },
    };
    const x = await app(backend, { storage });
    const { cookie, userId } = await x.signUp("cy@example.com");
    await x.post("/sign-in/email", { email: "cy@example.com", password: PASSWORD });
    const c = x.client(cookie);
    const inserted = await c.auditLog.insertAuditLog({ action: "data:export", metadata: { exportedCount: 500, scope: { table: "users" } } });
    expect(inserted.data?.success).toBe(true);
    // the storage gets ordinary objects: a peer test's toStrictEqual, a storage's hasOwnProperty
    const written = rows.find((r) => r.action === "data:export")!;
    expect(written.metadata).toStrictEqual({ exportedCount: 500, scope: { table: "users" } });
    expect(written.metadata).toBeInstanceOf(Object);
    const from = new Date(Date.now() - 60_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    const { data } = await c.auditLog.listAuditLogs({ query: { status: "success", limit: 2, offset: 1, from, to } });
    expect(calls.at(-1)).toMatchObject({ userId, status: "success", limit: 2, offset: 1, from: new Date(from), to: new Date(to) });
    expect(data?.total).toBe(3);
    expect(data?.entries).toHaveLength(2);
    expect(data?.entries.find((e) => e.action === "data:export")?.metadata).toEqual({ exportedCount: 500, scope: { table: "users" } });
    const failed = await c.auditLog.listAuditLogs({ query: { status: "failed" } });
    expect(calls.at(-1)?.status).toBe("failed");
    expect(failed.data?.total).toBe(0);
    const one = await c.auditLog.getAuditLog({ params: { id: rows[0]!.id } });
    expect(one.data?.id).toBe(rows[0]!.id);
  });

  it("a write-only storage: the read endpoints say so (501), and store: true keeps a readable database copy", async () => {
    const written: AuditLogEntry[] = [];
    const writeOnly = { write: async (entry: AuditLogEntry) => void written.push(entry) };
    const x = await app(backend, { storage: writeOnly });
    const { cookie } = await x.signUp("ed@example.com");
    const list = await x.client(cookie).auditLog.listAuditLogs();
    expect(list.error?.status).toBe(501);
    expect(list.error?.code).toBe("AUDIT_LOG_STORE_DISABLED");
    const both = await app(backend, { storage: writeOnly, store: true });
    const ed = await both.signUp("ed@example.com");
    const listed = await both.client(ed.cookie).auditLog.listAuditLogs();
    expect(listed.data?.entries.map((e) => e.action)).toEqual(["sign-up:email"]);
    expect(written.map((e) => e.action)).toEqual(["sign-up:email", "sign-up:email"]);
  });

  it("MemoryStorage with nonBlocking, a waitUntil runner, retention and hashed PII, as the peer's production config", async () => {
    const storage = new MemoryStorage();
    const tasks: Promise<unknown>[] = [];
    const alerts: string[] = [];
    const x = await app(
      backend,
      {
        storage,
        nonBlocking: true,
        piiRedaction: { enabled: true, strategy: "hash" },
        retention: { enabled: true, days: 90 },
        afterLog: async (entry) => {
          if (entry.severity === "critical" || entry.severity === "high") alerts.push(entry.action);
        },
      },
      { advanced: { ipAddress: { ipAddressHeaders: ["x-forwarded-for"] }, backgroundTasks: { handler: (p: Promise<unknown>) => void tasks.push(p) } } },
    );
    // a row from long ago, as a peer test would plant it
    const old = new Date(Date.now() - 100 * 86_400_000);
    await storage.write({ id: "old", action: "sign-in:email", status: "success", severity: "medium", userId: null, ipAddress: null, userAgent: null, metadata: {}, createdAt: old } as never);
    await x.signUp("di@example.com");
    await x.post("/sign-in/email", { email: "di@example.com", password: "wrong-password-000" });
    await Promise.all(tasks);
    await x.plugin.audit.flush();
    await settle();
    // retention ran after the writes: the 100-day-old row is gone
    expect(storage.entries.map((e) => e.action)).toEqual(["sign-up:email", "sign-in:email"]);
    expect(storage.entries[1]?.status).toBe("failed");
    expect(alerts).toEqual(["sign-in:email"]);
    await settle();
  });
});
