/**
 * The database store on a real PostgreSQL (Debian's `postgresql`, a throwaway cluster): a batch
 * goes past better-auth's adapter as one multi-row INSERT, and reads back exactly as rows the
 * adapter writes; a refused row sends the batch down the one-by-one path. Skipped without
 * PostgreSQL installed.
 */
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import pg from "pg";
import { auditLog } from "otel-auth-audit/better-auth";
import { createTestAudit } from "otel-auth-audit/testing";
import { attachDirectInsert } from "../src/store/direct-insert.js";
import { createAuthApp } from "./helpers/auth-app.js";
import { startPostgres, type Postgres } from "./app/helpers/next-postgres.js";
import { recordBothShapes } from "./helpers/store-rows.js";

const installed = existsSync("/usr/lib/postgresql");

describe.skipIf(!installed)("the database store on PostgreSQL", () => {
  let server: Postgres;
  const pools: pg.Pool[] = [];

  beforeAll(async () => {
    server = await startPostgres();
  }, 180_000);

  afterAll(async () => {
    await Promise.all(pools.map((p) => p.end()));
    server?.stop();
  });

  async function app(name: string, schema?: NonNullable<Parameters<typeof auditLog>[0]>["schema"]) {
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    await admin.end();
    const pool = new pg.Pool({ connectionString: server.url.replace(/\/postgres$/, `/${name}`), max: 2 });
    pools.push(pool);
    const t = createTestAudit();
    const plugin = auditLog({ loggerProvider: t.provider, schema, storeBatch: { flushIntervalMs: 60_000 } });
    const built = await createAuthApp({ database: pool, plugins: [plugin] });
    const ctx = await built.auth.$context;
    return { ...built, pool, plugin, adapter: ctx.adapter };
  }

  it("a batch is one INSERT past the adapter, and its rows read back as the adapter writes them (renamed table and columns)", async () => {
    const schema = { auditLog: { modelName: "audit_trail", fields: { userId: "user_id", createdAt: "created_at", statusCode: "status_code" } } };
    const direct = await app("direct", schema);
    const viaAdapter = await app("adapter", schema);
    attachDirectInsert(viaAdapter.adapter, async () => false);
    const create = vi.spyOn(direct.adapter, "create");
    const query = vi.spyOn(direct.pool, "query");
    const rowsOf = async (a: typeof direct) => {
      const r = await a.post("/sign-up/email", { email: "same@example.com", password: "correct-horse-battery-1", name: "S" });
      expect(r.status).toBe(200);
      await recordBothShapes(a.plugin.audit.logger, r.json.user.id as string);
      await a.plugin.audit.flush();
      const rows = (await a.pool.query(`SELECT * FROM audit_trail ORDER BY id`)).rows as Record<string, unknown>[];
      const read = await a.plugin.audit.list({ limit: 10 });
      // the sign-up's own id, time, session and user are new in each app
      const fresh = (x: Record<string, unknown>) => (x.action === "sign-up:email" ? { id: "", created_at: "", createdAt: "", sessionId: "" } : {});
      return {
        rows: rows.map((x) => ({ ...x, user_id: x.user_id === null ? null : "the user", ...fresh(x) })),
        read: read.entries.map((e) => ({ ...e, userId: e.userId === null ? null : "the user", ...fresh(e as never) })),
      };
    };
    const a = await rowsOf(direct);
    const b = await rowsOf(viaAdapter);
    expect(a.rows).toHaveLength(3);
    expect(a).toEqual(b);
    expect(create.mock.calls.filter(([args]) => args.model === "auditLog")).toEqual([]);
    expect(query.mock.calls.filter(([sql]) => typeof sql === "string" && sql.startsWith("insert into"))).toHaveLength(1);
  }, 60_000);

  it("a duplicate and a row whose user is gone do not hold back their batch", async () => {
    const a = await app("faults");
    const { logger } = a.plugin.audit;
    const first = await logger.record({ action: "dup:first", outcome: "success" });
    await a.plugin.audit.flush();
    await logger.record({ action: "batch:before", outcome: "success" });
    await logger.emit(logger.complete({ action: "dup:first", outcome: "success", id: first!.id }));
    await logger.record({ action: "ghost:user", outcome: "success", userId: "no-such-user" });
    await logger.record({ action: "batch:after", outcome: "success" });
    await a.plugin.audit.flush();
    const rows = (await a.pool.query(`SELECT id, action, "userId" FROM "auditLog" ORDER BY action`)).rows as Array<{ action: string; userId: string | null }>;
    expect(rows.map((r) => r.action)).toEqual(["batch:after", "batch:before", "dup:first", "ghost:user"]);
    expect(rows.find((r) => r.action === "ghost:user")!.userId).toBeNull();
  }, 60_000);
});
