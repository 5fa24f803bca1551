/**
 * The store's contract for a user coming from better-auth-audit-logs: startup checks, retries and
 * onWriteError, batched writes off the request path, background runners, the insert endpoint's
 * answer, entry shapes, MemoryStorage, retention, piiRedaction, the refused and the added options.
 * Everything goes through a real better-auth (auth.handler) unless it is a constructor check.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import fc from "fast-check";
import { diag, DiagLogLevel } from "@opentelemetry/api";
import type { BetterAuthPlugin } from "better-auth";
import { createAuthEndpoint, sessionMiddleware } from "better-auth/api";
import {
  auditLog,
  deleteExpiredAuditLogs,
  MemoryStorage,
  type AuditLogEntry,
  type AuditLogStorage,
  type StorageReadOptions,
} from "otel-auth-audit/better-auth";
import { AuditOptionsError } from "otel-auth-audit";
import { DatabaseExporter, DatabaseReader, RetentionSweeper, StorageExporter } from "otel-auth-audit/better-auth";
import { LokiAuditReader } from "otel-auth-audit/loki";
import { createTestAudit } from "otel-auth-audit/testing";
import { createStoreApp, type Backend } from "./helpers/store-app.js";
import { attachDirectInsert } from "../src/store/direct-insert.js";
import type { DatabaseSync } from "node:sqlite";
import { recordBothShapes } from "./helpers/store-rows.js";

const PASSWORD = "correct-horse-battery-1";

/**
 * Property: with inserts failing on a generated pattern (set through `fail`), every record is
 * stored once or reported to onWriteError once, never both, never neither.
 */
function storedOrReportedOnce(app: Awaited<ReturnType<typeof setup>>, reported: string[], fail: (failing: () => boolean) => void) {
  return fc.assert(
    fc.asyncProperty(fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }), fc.integer({ min: 1, max: 20 }), async (pattern, count) => {
      let i = 0;
      fail(() => pattern[i++ % pattern.length]! && pattern[(i * 7) % pattern.length]!);
      reported.length = 0;
      app.database!.exec("DELETE FROM auditLog");
      const events = await Promise.all(Array.from({ length: count }, (_, n) => app.plugin.audit.logger.record({ action: `fault:${n}`, outcome: "success" })));
      await app.plugin.audit.flush();
      const stored = app.database!.prepare("SELECT id FROM auditLog").all().map((r) => r.id as string);
      expect(new Set(stored).size).toBe(stored.length);
      for (const event of events) {
        const times = stored.filter((id) => id === event!.id).length + reported.filter((id) => id === event!.id).length;
        expect(times, event!.action).toBe(1);
      }
    }),
    { numRuns: 6 },
  );
}

async function setup(backend: Backend, pluginOptions: Parameters<typeof auditLog>[0] = {}, authOptions: Record<string, unknown> = {}) {
  const t = createTestAudit();
  const plugin = auditLog({ loggerProvider: t.provider, ...pluginOptions });
  const app = await createStoreApp(backend, { ...authOptions, plugins: [plugin, ...((authOptions.plugins as BetterAuthPlugin[] | undefined) ?? [])] });
  const signUp = async (email: string) => {
    const r = await app.post("/sign-up/email", { email, password: PASSWORD, name: "Someone" });
    expect(r.status).toBe(200);
    return { cookie: r.cookie!, userId: r.json.user.id as string };
  };
  return { t, plugin, ...app, signUp };
}

/** Writes through better-auth's adapter only: the direct insert past it declines every batch. */
const adapterOnly = (adapter: object) => attachDirectInsert(adapter, async () => false);

/**
 * Faults inside the database, whichever path writes the row: a trigger asks `fail()` before each
 * audit row and aborts the insert when it says so.
 */
function injectInsertFaults(database: DatabaseSync, fail: () => boolean) {
  const count = { injected: 0 };
  database.function("audit_insert_fault", () => {
    if (!fail()) return 0;
    count.injected++;
    return 1;
  });
  database.exec(`CREATE TRIGGER audit_insert_fault BEFORE INSERT ON auditLog WHEN audit_insert_fault() = 1 BEGIN SELECT RAISE(ABORT, 'injected insert fault'); END`);
  return count;
}

function collectDiag() {
  const errors: unknown[][] = [];
  const noop = () => {};
  diag.setLogger({ error: (...a: unknown[]) => void errors.push(a), warn: noop, info: noop, debug: noop, verbose: noop }, { logLevel: DiagLogLevel.ERROR, suppressOverrideMessage: true });
  return errors;
}

afterEach(() => {
  diag.disable();
  vi.useRealTimers();
});

const optionError = (fn: () => unknown): AuditOptionsError => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AuditOptionsError);
    return error as AuditOptionsError;
  }
  throw new Error("expected an AuditOptionsError");
};

describe("storage is checked at construction", () => {
  it("accepts exactly: write a function; read, readById, deleteOlderThan absent or functions (property)", () => {
    const member = fc.oneof(fc.constant(undefined), fc.constant(async () => null), fc.constant("fn"), fc.constant(42), fc.constant(null), fc.constant({}));
    fc.assert(
      fc.property(member, member, member, member, (write, read, readById, deleteOlderThan) => {
        const storage: Record<string, unknown> = {};
        for (const [k, v] of Object.entries({ write, read, readById, deleteOlderThan })) if (v !== undefined || Math.random() < 0.5) storage[k] = v;
        const valid =
          typeof write === "function" && [read, readById, deleteOlderThan].every((m) => m === undefined || typeof m === "function");
        if (valid) expect(() => auditLog({ storage: storage as never })).not.toThrow();
        else {
          const error = optionError(() => auditLog({ storage: storage as never }));
          expect(error.option).toMatch(/^storage(\.(write|read|readById|deleteOlderThan))?$/);
        }
      }),
      { numRuns: 200 },
    );
  });

  it("says what to change", () => {
    expect(() => auditLog({ storage: {} as never })).toThrow(/storage\.write.*must implement write/);
    expect(() => auditLog({ storage: { write: async () => {}, read: "x" } as never })).toThrow(/storage\.read must be a function/);
    expect(() => auditLog({ storage: null as never })).toThrow(AuditOptionsError);
    // a class instance (methods on the prototype) is a storage
    expect(() => auditLog({ storage: new MemoryStorage() })).not.toThrow();
  });

  it("the store's other options too: retention, storeBatch, metadataLimits, beforePaths, onWriteError, schema", () => {
    for (const [options, option] of [
      [{ retention: { days: 30, intervalMs: -1 } }, "retention.intervalMs"],
      [{ retention: { days: 30, intervalMs: 0 } }, "retention.intervalMs"],
      [{ retention: { days: 30, intervalMs: 1.5 } }, "retention.intervalMs"],
      [{ retention: { days: -3 } }, "retention.days"],
      [{ retention: { enabled: true } }, "retention.days"],
      [{ retention: { days: 30, every: 1 } }, "retention.every"],
      [{ storeBatch: { flushIntervalMs: -5 } }, "storeBatch.flushIntervalMs"],
      [{ storeBatch: { maxBatch: 0 } }, "storeBatch.maxBatch"],
      [{ metadataLimits: { maxDepth: 0 } }, "metadataLimits.maxDepth"],
      [{ metadataLimits: true }, "metadataLimits"],
      [{ beforePaths: "/sign-out" }, "beforePaths"],
      [{ beforePaths: ["sign-out"] }, "beforePaths.0"],
      [{ onWriteError: "log" }, "onWriteError"],
      [{ schema: { auditLog: { modelName: "" } } }, "schema.auditLog.modelName"],
      [{ schema: { audit: {} } }, "schema.audit"],
    ] as const) {
      expect(optionError(() => auditLog(options as never)).option, JSON.stringify(options)).toBe(option);
    }
    expect(() => auditLog({ retention: { enabled: false } as never })).not.toThrow();
  });

  it("tamperDetection is refused with a pointer to the IntegrityProcessor (false is accepted)", () => {
    const error = optionError(() => auditLog({ tamperDetection: { enabled: true } } as never));
    expect(error.option).toBe("tamperDetection");
    expect(error.message).toMatch(/IntegrityProcessor/);
    expect(() => auditLog({ tamperDetection: false })).not.toThrow();
  });

  it("the store's constructors validate too", () => {
    expect(optionError(() => new DatabaseExporter({} as never)).option).toBe("adapter");
    expect(optionError(() => new DatabaseExporter({ adapter: () => ({}) as never, maxBatch: -1 })).option).toBe("maxBatch");
    expect(optionError(() => new StorageExporter({} as never)).option).toBe("storage.write");
    expect(optionError(() => new StorageExporter({ write() {} }, { flushIntervalMs: "soon" } as never)).option).toBe("flushIntervalMs");
    expect(optionError(() => new RetentionSweeper({ days: 1, intervalMs: -1, deleteBefore: async () => 0 })).option).toBe("intervalMs");
    expect(optionError(() => new RetentionSweeper({ days: Number.NaN, deleteBefore: async () => 0 })).option).toBe("days");
    expect(optionError(() => new LokiAuditReader({ url: "not a url" })).option).toBe("url");
    expect(optionError(() => new LokiAuditReader({ url: "http://127.0.0.1:3100", selector: "audit" })).option).toBe("selector");
    expect(optionError(() => new MemoryStorage({ maxEntries: 0 })).option).toBe("maxEntries");
    expect(optionError(() => new DatabaseReader({ adapter: { create() {} } as never })).option).toBe("adapter");
  });
});

/** A storage whose write fails `failures(entry)` times before succeeding (Infinity: always). */
function flakyStorage(failures: (entry: AuditLogEntry) => number) {
  const inner = new MemoryStorage();
  const attempts = new Map<string, number>();
  const storage: AuditLogStorage & { attempts: Map<string, number>; inner: MemoryStorage } = {
    attempts,
    inner,
    async write(entry) {
      const n = (attempts.get(entry.action) ?? 0) + 1;
      attempts.set(entry.action, n);
      if (n <= failures(entry)) throw new Error(`write failed: ${entry.action}`);
      await inner.write(entry);
    },
    read: (q) => inner.read(q),
    readById: (id) => inner.readById(id),
  };
  return storage;
}

describe("retries and onWriteError", () => {
  it.each([0, 1, 2, 3, 5])("a write failing %i time(s): stored after at most 3 attempts, else onWriteError(error, entry) once", async (failures) => {
    const errors = collectDiag();
    const storage = flakyStorage(() => failures);
    const onWriteError = vi.fn();
    const app = await setup("memory", { storage, onWriteError, storeBatch: { flushIntervalMs: 0 } });
    const r = await app.post("/sign-up/email", { email: `flaky${failures}@example.com`, password: PASSWORD, name: "F" });
    expect(r.status).toBe(200); // auth never breaks because of the store
    await app.plugin.audit.flush();
    expect(storage.attempts.get("sign-up:email")).toBe(Math.min(failures + 1, 3));
    if (failures < 3) {
      expect(storage.inner.entries.map((e) => e.action)).toEqual(["sign-up:email"]);
      expect(onWriteError).not.toHaveBeenCalled();
    } else {
      expect(storage.inner.entries).toHaveLength(0);
      expect(onWriteError).toHaveBeenCalledTimes(1);
      const [error, entry] = onWriteError.mock.calls[0]!;
      expect((error as Error).message).toBe("write failed: sign-up:email");
      expect(entry).toMatchObject({ action: "sign-up:email", status: "success", userId: r.json.user.id });
      expect(errors.some((e) => String(e[0]).includes("could not be stored"))).toBe(true);
    }
  });

  it("one bad entry costs that entry alone; a throwing onWriteError goes to diag", async () => {
    const errors = collectDiag();
    const storage = flakyStorage((e) => (e.action === "batch:bad" ? Infinity : 0));
    const failed: string[] = [];
    const app = await setup("memory", {
      storage,
      storeBatch: { flushIntervalMs: 10_000 },
      onWriteError: (_error, entry) => {
        failed.push(entry.action);
        throw new Error("callback bug");
      },
    });
    await app.auth.$context;
    for (const action of ["batch:a", "batch:bad", "batch:b", "batch:c"]) await app.plugin.audit.logger.record({ action, outcome: "success" });
    await app.plugin.audit.flush();
    expect(storage.inner.entries.map((e) => e.action).sort()).toEqual(["batch:a", "batch:b", "batch:c"]);
    expect(failed).toEqual(["batch:bad"]);
    expect(errors.some((e) => String(e[0]).includes("onWriteError threw"))).toBe(true);
  });

  it("database: a failing adapter is retried, then onWriteError names the entry; the request still succeeds", async () => {
    collectDiag();
    const onWriteError = vi.fn();
    const app = await setup("sqlite", { onWriteError, storeBatch: { flushIntervalMs: 0 } });
    const ctx = await app.auth.$context;
    adapterOnly(ctx.adapter);
    let inserts = 0;
    const create = vi.spyOn(ctx.adapter, "create").mockImplementation(async () => {
      inserts++;
      throw new Error("database is locked");
    });
    const event = await app.plugin.audit.logger.record({ action: "locked:db", outcome: "success" });
    await app.plugin.audit.flush();
    create.mockRestore();
    expect(inserts).toBeGreaterThanOrEqual(3);
    expect(onWriteError).toHaveBeenCalledTimes(1);
    expect(onWriteError.mock.calls[0]![1]).toMatchObject({ id: event!.id, action: "locked:db" });
    // the next record is stored as usual
    await app.plugin.audit.logger.record({ action: "unlocked:db", outcome: "success" });
    expect((await app.plugin.audit.list({ action: "unlocked:db" })).total).toBe(1);
  });

  it("database: a failing insert past the adapter is retried, then onWriteError names the entry", async () => {
    collectDiag();
    const onWriteError = vi.fn();
    const app = await setup("sqlite", { onWriteError, storeBatch: { flushIntervalMs: 0 } });
    await app.auth.$context;
    let locked = true;
    const faults = injectInsertFaults(app.database!, () => locked);
    const event = await app.plugin.audit.logger.record({ action: "locked:db", outcome: "success" });
    await app.plugin.audit.flush();
    locked = false;
    expect(faults.injected).toBeGreaterThanOrEqual(3);
    expect(onWriteError).toHaveBeenCalledTimes(1);
    expect(onWriteError.mock.calls[0]![1]).toMatchObject({ id: event!.id, action: "locked:db" });
    await app.plugin.audit.logger.record({ action: "unlocked:db", outcome: "success" });
    expect((await app.plugin.audit.list({ action: "unlocked:db" })).total).toBe(1);
    expect((await app.plugin.audit.list({ action: "locked:db" })).total).toBe(0);
  });
});

describe("batched database writes", () => {
  it("records are written off the request path, in one transaction per batch; a read waits for them", async () => {
    const app = await setup("sqlite", { storeBatch: { flushIntervalMs: 60_000, maxBatch: 500 } });
    const ctx = await app.auth.$context;
    const transaction = vi.spyOn(ctx.adapter, "transaction");
    // node:sqlite: the batch is written past the adapter, in a transaction of its own
    const exec = vi.spyOn(app.database!, "exec");
    const begins = () => exec.mock.calls.filter(([sql]) => /^begin/i.test(sql)).length;
    const { cookie } = await app.signUp("batch@example.com");
    for (let i = 0; i < 5; i++) await app.post("/sign-in/email", { email: "batch@example.com", password: `wrong-${i}` });
    // the responses are out; the rows are not written yet
    expect(app.database!.prepare("SELECT count(*) AS n FROM auditLog").get()).toEqual({ n: 0 });
    const byBetterAuth = transaction.mock.calls.length; // sign-up's own
    const list = await app.get("/audit-log/list?limit=50", cookie);
    expect(list.json.total).toBe(1); // the caller's own: failed sign-ins name no user
    expect((await app.plugin.audit.list({ limit: 50 })).total).toBe(6);
    expect(transaction.mock.calls.length - byBetterAuth + begins()).toBe(1);
    expect(app.database!.prepare("SELECT count(*) AS n FROM auditLog").get()).toEqual({ n: 6 });
  });

  it("through the adapter (databases the store cannot write directly): one transaction per batch", async () => {
    const app = await setup("sqlite", { storeBatch: { flushIntervalMs: 60_000, maxBatch: 500 } });
    const ctx = await app.auth.$context;
    adapterOnly(ctx.adapter);
    const transaction = vi.spyOn(ctx.adapter, "transaction");
    for (let i = 0; i < 5; i++) await app.plugin.audit.logger.record({ action: `batch:${i}`, outcome: "success" });
    expect(transaction).not.toHaveBeenCalled();
    expect((await app.plugin.audit.list({ limit: 50 })).total).toBe(5);
    expect(transaction).toHaveBeenCalledTimes(1);
  });

  it("rows written past the adapter read back as the adapter writes them (renamed table and columns)", async () => {
    const schema = { auditLog: { modelName: "audit_trail", fields: { userId: "user_id", createdAt: "created_at", statusCode: "status_code" } } };
    const direct = await setup("sqlite", { schema, storeBatch: { flushIntervalMs: 60_000 } });
    const viaAdapter = await setup("sqlite", { schema, storeBatch: { flushIntervalMs: 60_000 } });
    adapterOnly((await viaAdapter.auth.$context).adapter);
    const create = vi.spyOn((await direct.auth.$context).adapter, "create");
    const rowsOf = async (app: typeof direct) => {
      const { userId } = await app.signUp("same@example.com");
      await recordBothShapes(app.plugin.audit.logger, userId);
      await app.plugin.audit.flush();
      const rows = app.database!.prepare("SELECT * FROM audit_trail ORDER BY id").all();
      const read = await app.plugin.audit.list({ limit: 10 });
      // the sign-up's own id, time, session and user are new in each app
      const fresh = (r: Record<string, unknown>) => (r.action === "sign-up:email" ? { id: "", created_at: "", createdAt: "", sessionId: "" } : {});
      return {
        rows: rows.map((r) => ({ ...r, user_id: r.user_id === null ? null : "the user", ...fresh(r) })),
        read: read.entries.map((e) => ({ ...e, userId: e.userId === null ? null : "the user", ...fresh(e as never) })),
      };
    };
    const a = await rowsOf(direct);
    const b = await rowsOf(viaAdapter);
    expect(a.rows).toHaveLength(3); // sign-up and the two records
    expect(a).toEqual(b);
    expect(create.mock.calls.filter(([args]) => args.model === "auditLog")).toEqual([]); // none went through the adapter
  });

  it("a batch is written on its own after flushIntervalMs, and at once at maxBatch", async () => {
    const app = await setup("sqlite", { storeBatch: { flushIntervalMs: 30, maxBatch: 3 } });
    await app.auth.$context;
    const count = () => (app.database!.prepare("SELECT count(*) AS n FROM auditLog").get() as { n: number }).n;
    await app.plugin.audit.logger.record({ action: "timer:one", outcome: "success" });
    expect(count()).toBe(0);
    await vi.waitFor(() => expect(count()).toBe(1), { timeout: 2000, interval: 5 });
    for (let i = 0; i < 3; i++) await app.plugin.audit.logger.record({ action: `full:${i}`, outcome: "success" });
    await vi.waitFor(() => expect(count()).toBe(4), { timeout: 25, interval: 1 });
  });

  it("a duplicate and a row whose user is gone do not hold back their batch", async () => {
    const app = await setup("sqlite", { storeBatch: { flushIntervalMs: 60_000 } });
    await app.auth.$context;
    const { logger } = app.plugin.audit;
    const first = await logger.record({ action: "dup:first", outcome: "success" });
    await app.plugin.audit.flush();
    const source = createTestAudit();
    await source.audit.record({ action: "dup:again", outcome: "success", id: first!.id });
    await logger.record({ action: "batch:before", outcome: "success" });
    await logger.emit(logger.complete({ action: "dup:first", outcome: "success", id: first!.id }));
    await logger.record({ action: "ghost:user", outcome: "success", userId: "no-such-user" });
    await logger.record({ action: "batch:after", outcome: "success" });
    await app.plugin.audit.flush();
    const rows = app.database!.prepare("SELECT id, action, userId FROM auditLog ORDER BY action").all();
    expect(rows.map((r) => r.action)).toEqual(["batch:after", "batch:before", "dup:first", "ghost:user"]);
    expect(rows.find((r) => r.action === "ghost:user")!.userId).toBeNull();
  });

  it("concurrent requests: every record is stored exactly once (property over arrival patterns)", async () => {
    const app = await setup("sqlite", { storeBatch: { flushIntervalMs: 5, maxBatch: 7 } });
    await app.auth.$context;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat({ max: 12 }), { minLength: 1, maxLength: 6 }), async (bursts) => {
        app.database!.exec("DELETE FROM auditLog");
        const ids: string[] = [];
        for (const n of bursts) {
          const events = await Promise.all(Array.from({ length: n }, (_, i) => app.plugin.audit.logger.record({ action: `burst:${i}`, outcome: "success" })));
          ids.push(...events.map((e) => e!.id));
          await new Promise((r) => setTimeout(r, n % 3));
        }
        await app.plugin.audit.flush();
        const stored = app.database!.prepare("SELECT id FROM auditLog").all().map((r) => r.id);
        expect(stored.sort()).toEqual(ids.sort());
      }),
      { numRuns: 15 },
    );
  });
});

describe("the database store under random insert faults", () => {
  it("every record is stored once or reported to onWriteError once, never both, never neither (property, faults in the database)", async () => {
    collectDiag();
    const reported: string[] = [];
    const app = await setup("sqlite", { onWriteError: (_e, entry) => void reported.push(entry.id), storeBatch: { flushIntervalMs: 1, maxBatch: 5 } });
    await app.auth.$context;
    let failing = (): boolean => false;
    const faults = injectInsertFaults(app.database!, () => failing());
    await storedOrReportedOnce(app, reported, (f) => (failing = f));
    expect(faults.injected).toBeGreaterThan(0); // the faults did happen
  }, 60_000);

  it("every record is stored once or reported to onWriteError once, never both, never neither (property, faults in the adapter)", async () => {
    collectDiag();
    const reported: string[] = [];
    const app = await setup("sqlite", { onWriteError: (_e, entry) => void reported.push(entry.id), storeBatch: { flushIntervalMs: 1, maxBatch: 5 } });
    const ctx = await app.auth.$context;
    adapterOnly(ctx.adapter);
    const adapter = ctx.adapter as unknown as Record<string, (...args: never[]) => Promise<unknown>>;
    const create = adapter.create!.bind(adapter);
    const transaction = adapter.transaction!.bind(adapter);
    let failing = (): boolean => false;
    let injected = 0;
    const flaky =
      (inner: (args: { model: string }) => Promise<unknown>) =>
      async (args: { model: string }): Promise<unknown> => {
        if (args.model === "auditLog" && failing()) {
          injected++;
          throw new Error("injected insert fault");
        }
        return inner(args);
      };
    vi.spyOn(adapter, "create").mockImplementation(flaky(create as never) as never);
    vi.spyOn(adapter, "transaction").mockImplementation(((callback: (trx: unknown) => Promise<unknown>) =>
      (transaction as (cb: (trx: Record<string, unknown>) => Promise<unknown>) => Promise<unknown>)((trx) =>
        callback({ ...trx, create: flaky((trx.create as (a: unknown) => Promise<unknown>).bind(trx) as never) }),
      )) as never);
    await storedOrReportedOnce(app, reported, (f) => (failing = f));
    expect(injected).toBeGreaterThan(0); // the faults did happen
  }, 60_000);
});

describe("background runners (waitUntil) see the row written", () => {
  for (const nonBlocking of [true, false]) {
    it(`nonBlocking: ${nonBlocking} — the task handed to the runner resolves only after the write`, async () => {
      const tasks: Promise<unknown>[] = [];
      const slow = new MemoryStorage();
      const storage: AuditLogStorage = {
        async write(entry) {
          await new Promise((r) => setTimeout(r, 40));
          await slow.write(entry);
        },
      };
      const app = await setup("memory", { storage, nonBlocking }, { advanced: { ipAddress: { ipAddressHeaders: ["x-forwarded-for"] }, backgroundTasks: { handler: (p: Promise<unknown>) => void tasks.push(p) } } });
      const r = await app.post("/sign-up/email", { email: `wait${nonBlocking}@example.com`, password: PASSWORD, name: "W" });
      expect(r.status).toBe(200);
      expect(slow.entries).toHaveLength(0);
      // what a serverless runtime does: wait for the tasks it was handed, nothing else
      while (tasks.length > 0) await Promise.all(tasks.splice(0));
      expect(slow.entries.map((e) => e.action)).toEqual(["sign-up:email"]);
    });
  }

  it("the database row too (nonBlocking)", async () => {
    const tasks: Promise<unknown>[] = [];
    const app = await setup("sqlite", { nonBlocking: true }, { advanced: { backgroundTasks: { handler: (p: Promise<unknown>) => void tasks.push(p) } } });
    await app.post("/sign-up/email", { email: "waitdb@example.com", password: PASSWORD, name: "W" });
    while (tasks.length > 0) await Promise.all(tasks.splice(0));
    expect(app.database!.prepare("SELECT action FROM auditLog").all().map((r) => r.action)).toContain("sign-up:email");
  });
});

describe("POST /audit-log/insert", () => {
  it("answers { success: true, ... } with the entry; status defaults to success; metadata comes back as given", async () => {
    const app = await setup("sqlite");
    const { cookie } = await app.signUp("insert@example.com");
    const metadata = { rows: 500, filter: { team: "a", tags: ["x", "y"], nested: { deep: { flag: true } } }, ratio: 0.5 };
    const r = await app.post("/audit-log/insert", { action: "data:export", metadata }, cookie);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ success: true, action: "data:export", status: "success", outcome: "success", metadata });
    const list = await app.get("/audit-log/list?action=data:export", cookie);
    expect(list.json.entries[0].metadata).toEqual(metadata);
    expect((await app.get(`/audit-log/${r.json.id}`, cookie)).json.metadata).toEqual(metadata);
    // an entry without metadata has an object, not null
    const plain = await app.get("/audit-log/list?action=sign-up:email", cookie);
    expect(plain.json.entries[0].metadata).toEqual({});
  });

  it("answers 503 AUDIT_LOG_WRITE_FAILED when the record could not be stored (after the retries)", async () => {
    collectDiag();
    const onWriteError = vi.fn();
    const storage = flakyStorage((e) => (e.action === "client:lost" ? Infinity : 0));
    const app = await setup("memory", { storage, onWriteError });
    const { cookie } = await app.signUp("lost@example.com");
    const r = await app.post("/audit-log/insert", { action: "client:lost", status: "success" }, cookie);
    expect([r.status, r.json.code]).toEqual([503, "AUDIT_LOG_WRITE_FAILED"]);
    expect(onWriteError).toHaveBeenCalledTimes(1);
    const ok = await app.post("/audit-log/insert", { action: "client:kept", status: "failed" }, cookie);
    expect([ok.status, ok.json.success, ok.json.status]).toEqual([200, true, "failed"]);
  });

  it("metadataLimits: size and depth, or none with false", async () => {
    const app = await setup("memory", { metadataLimits: { maxBytes: 100, maxDepth: 2 } });
    const { cookie } = await app.signUp("limits@example.com");
    const code = async (metadata: unknown) => {
      const r = await app.post("/audit-log/insert", { action: "x:y", metadata }, cookie);
      return r.status === 200 ? 200 : r.json.code;
    };
    expect(await code({ a: { b: 1 } })).toBe(200);
    expect(await code({ a: { b: { c: 1 } } })).toBe("METADATA_TOO_DEEP");
    expect(await code({ a: "x".repeat(120) })).toBe("METADATA_TOO_LARGE");
    const open = await setup("memory", { metadataLimits: false });
    const other = await open.signUp("open@example.com");
    expect((await open.post("/audit-log/insert", { action: "x:y", metadata: { a: "x".repeat(20_000) } }, other.cookie)).status).toBe(200);
  });
});

describe("reads through a custom storage", () => {
  it("read() gets the peer's status beside our outcome, and limit/offset always", async () => {
    const seen: StorageReadOptions[] = [];
    const inner = new MemoryStorage();
    const app = await setup("memory", {
      storage: { write: (e) => inner.write(e), read: (q) => (seen.push(q), inner.read(q)), readById: (id) => inner.readById(id) },
    });
    const { cookie } = await app.signUp("reader@example.com");
    await app.post("/sign-in/email", { email: "reader@example.com", password: "wrong-password-1" });
    await app.get("/audit-log/list?status=failed", cookie);
    await app.get("/audit-log/list?status=success&limit=5&offset=1", cookie);
    await app.get("/audit-log/list", cookie);
    expect(seen.map((q) => [q.status, q.outcome, q.limit, q.offset])).toEqual([
      ["failed", "failure", 50, 0],
      ["success", "success", 5, 1],
      [undefined, undefined, 50, 0],
    ]);
  });

  it("a test written for the peer: MemoryStorage has the entry as soon as the request returns", async () => {
    const storage = new MemoryStorage();
    const app = await setup("memory", { storage });
    const r = await app.post("/sign-up/email", { email: "asap@example.com", password: PASSWORD, name: "A" });
    expect(storage.entries.map((e) => [e.action, e.status, e.userId])).toEqual([["sign-up:email", "success", r.json.user.id]]);
  });

  it("MemoryStorage: entries for tests, the endpoints read it, a re-delivered entry is kept once", async () => {
    const storage = new MemoryStorage();
    const app = await setup("sqlite", { storage });
    const { cookie, userId } = await app.signUp("memory@example.com");
    await app.plugin.audit.flush();
    expect(storage.entries).toEqual([expect.objectContaining({ action: "sign-up:email", status: "success", userId, metadata: {} })]);
    await storage.write(storage.entries[0]!);
    expect(storage.entries).toHaveLength(1);
    const list = await app.get("/audit-log/list", cookie);
    expect(list.json.entries.map((e: AuditLogEntry) => e.action)).toEqual(["sign-up:email"]);
  });
});

describe("retention", () => {
  it("with a custom storage, runs after writes (not only on the timer), at most once per interval", async () => {
    const deletes: Date[] = [];
    const inner = new MemoryStorage();
    const app = await setup("memory", {
      storage: { write: (e) => inner.write(e), deleteOlderThan: async (d) => (deletes.push(d), inner.deleteOlderThan(d)) },
      retention: { days: 30, intervalMs: 60 * 60 * 1000 },
    });
    await app.auth.$context;
    await app.plugin.audit.logger.record({ action: "r:1", outcome: "success" });
    await app.plugin.audit.flush();
    await vi.waitFor(() => expect(deletes).toHaveLength(1));
    await app.plugin.audit.logger.record({ action: "r:2", outcome: "success" });
    await app.plugin.audit.flush();
    await new Promise((r) => setTimeout(r, 20));
    expect(deletes).toHaveLength(1);
  });

  it("a negative or zero interval is refused: no DELETE storm without traffic", async () => {
    let deletes = 0;
    expect(() => auditLog({ storage: { write() {}, deleteOlderThan: async () => (deletes++, 0) }, retention: { days: 1, intervalMs: -1 } })).toThrow(AuditOptionsError);
    await new Promise((r) => setTimeout(r, 50));
    expect(deletes).toBe(0);
  });

  it("deleteExpiredAuditLogs rejects when the storage cannot delete", async () => {
    await expect(deleteExpiredAuditLogs({ adapter: undefined }, { days: 30, storage: { write() {} } })).rejects.toThrow(/deleteOlderThan/);
    await expect(deleteExpiredAuditLogs({ adapter: undefined }, { days: 30 })).rejects.toThrow(/auth\.\$context/);
    const storage = new MemoryStorage();
    await storage.write({ ...(await oldEntry()), createdAt: new Date(Date.now() - 40 * 86_400_000) });
    expect(await deleteExpiredAuditLogs({ adapter: undefined }, { days: 30, storage })).toBe(1);
  });

  it("deleteExpiredAuditLogs(await auth.$context) follows the plugin's storage, and rejects when it cannot delete", async () => {
    const storage = new MemoryStorage();
    const app = await setup("sqlite", { storage });
    await storage.write({ ...(await oldEntry()), createdAt: new Date(Date.now() - 40 * 86_400_000) });
    expect(await deleteExpiredAuditLogs(await app.auth.$context, { days: 30 })).toBe(1);
    const writeOnly = await setup("sqlite", { storage: { write() {} } });
    await expect(deleteExpiredAuditLogs(await writeOnly.auth.$context, { days: 30 })).rejects.toThrow(/cannot delete/);
  });
});

async function oldEntry(): Promise<AuditLogEntry> {
  const t = createTestAudit();
  const event = await t.audit.record({ action: "old:one", outcome: "success" });
  return { id: event!.id, action: "old:one", outcome: "success", status: "success", severity: "low", userId: null, sessionId: null, actorId: null, ipAddress: null, error: null, origin: "server", eventName: null, method: null, path: null, statusCode: null, metadata: {}, createdAt: new Date() };
}

describe("piiRedaction.strategy applies to the default keys too", () => {
  // inserted metadata reaches the store's RedactionProcessor as given (request-body capture would drop credentials first)
  const metadata = { token: "tok-secret-1", profile: { password: "pw-secret-2", nickname: "pat" }, ssn: "123-45-6789" };

  it("remove removes a default key (at any depth) and a custom field", async () => {
    const app = await setup("sqlite", { piiRedaction: { enabled: true, strategy: "remove", fields: ["ssn"] } });
    const { cookie } = await app.signUp("remove@example.com");
    expect((await app.post("/audit-log/insert", { action: "pii:remove", metadata }, cookie)).status).toBe(200);
    const [entry] = (await app.plugin.audit.list({ action: "pii:remove" })).entries;
    expect(entry!.metadata).toEqual({ profile: { nickname: "pat" } });
  });

  it("mask (the default strategy) masks them", async () => {
    const app = await setup("sqlite", { piiRedaction: { enabled: true, fields: ["ssn"] } });
    const { cookie } = await app.signUp("mask@example.com");
    await app.post("/audit-log/insert", { action: "pii:mask", metadata }, cookie);
    const [entry] = (await app.plugin.audit.list({ action: "pii:mask" })).entries;
    expect(entry!.metadata).toEqual({ token: "[REDACTED]", profile: { password: "[REDACTED]", nickname: "pat" }, ssn: "[REDACTED]" });
  });

  it("hash gives the 64 hex digits of SHA-256 for a default key and a custom field, the same for the same value", async () => {
    const app = await setup("sqlite", { piiRedaction: { enabled: true, strategy: "hash", fields: ["ssn"] } });
    const { cookie } = await app.signUp("hash@example.com");
    await app.post("/audit-log/insert", { action: "pii:hash", metadata }, cookie);
    await app.post("/audit-log/insert", { action: "pii:hash", metadata }, cookie);
    const entries = (await app.plugin.audit.list({ action: "pii:hash" })).entries;
    expect(entries).toHaveLength(2);
    for (const { metadata: m } of entries) {
      expect(m.token).toMatch(/^[0-9a-f]{64}$/);
      expect(m.ssn).toMatch(/^[0-9a-f]{64}$/);
      expect((m.profile as Record<string, string>).password).toMatch(/^[0-9a-f]{64}$/);
      expect((m.profile as Record<string, string>).nickname).toBe("pat");
    }
    expect(entries[0]!.metadata).toEqual(entries[1]!.metadata);
    expect(JSON.stringify(entries)).not.toMatch(/tok-secret-1|pw-secret-2|123-45-6789/);
  });
});

describe("beforePaths", () => {
  /** An endpoint that ends the caller's session: its record must still name who it was. */
  const logoutEverywhere = {
    id: "logout-everywhere",
    endpoints: {
      logoutEverywhere: createAuthEndpoint("/custom/logout-everywhere", { method: "POST", use: [sessionMiddleware] }, async (ctx) => {
        await ctx.context.internalAdapter.deleteUserSessions(ctx.context.session.user.id);
        ctx.context.session = null as never;
        return ctx.json({ ok: true });
      }),
    },
  } satisfies BetterAuthPlugin;

  it("a path added to beforePaths gets its subject from before the endpoint ran", async () => {
    const app = await setup("sqlite", { beforePaths: ["/sign-out", "/custom/logout-everywhere"] }, { plugins: [logoutEverywhere] });
    const { cookie, userId } = await app.signUp("before@example.com");
    expect((await app.post("/custom/logout-everywhere", {}, cookie)).status).toBe(200);
    const [entry] = (await app.plugin.audit.list({ action: "custom:logout-everywhere" })).entries;
    expect(entry).toMatchObject({ userId, outcome: "success" });
    expect(entry!.sessionId).toEqual(expect.any(String));
  });

  it("without it, the same endpoint's record has no subject (the lookup is what beforePaths adds)", async () => {
    const app = await setup("sqlite", {}, { plugins: [logoutEverywhere] });
    const { cookie } = await app.signUp("nobefore@example.com");
    await app.post("/custom/logout-everywhere", {}, cookie);
    const [entry] = (await app.plugin.audit.list({ action: "custom:logout-everywhere" })).entries;
    expect(entry!.userId).toBeNull();
  });
});

describe("a record the store cannot take is never silent", () => {
  for (const backend of ["sqlite", "memory"] as const) {
    it(`${backend}: a beforeLog returning a partial event — stored whole, or reported to onWriteError and diag`, async () => {
      const errors = collectDiag();
      const onWriteError = vi.fn();
      const app = await setup(backend, { onWriteError, beforeLog: () => ({ action: "x" }) as never });
      const r = await app.post("/sign-up/email", { email: `partial-${backend}@example.com`, password: PASSWORD, name: "P" });
      expect(r.status).toBe(200);
      await app.plugin.audit.flush();
      const stored = (await app.plugin.audit.list({ limit: 50 })).entries;
      if (stored.length === 0) {
        expect(onWriteError).toHaveBeenCalledTimes(1);
        expect(errors.length).toBeGreaterThan(0);
      } else expect(stored[0]!.id).toMatch(/\S/);
    });
  }
});
