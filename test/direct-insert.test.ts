import { DatabaseSync } from "node:sqlite";
import { describe, expect, it } from "vitest";
import type { AuditLogRow } from "../src/store/adapter.js";
import { directInsertFor, type TableShape } from "../src/store/direct-insert.js";
import { auditLogSchema } from "../src/better-auth/schema.js";

const table: TableShape = { modelName: "audit", fields: { ...auditLogSchema.auditLog.fields, createdAt: { type: "date", fieldName: "created_at" } } };

function database() {
  const db = new DatabaseSync(":memory:");
  const columns = Object.entries(table.fields).map(([key, f]) => `"${f.fieldName ?? key}"`);
  db.exec(`CREATE TABLE audit (id TEXT PRIMARY KEY NOT NULL, ${columns.join(", ")})`);
  return db;
}

const row = (id: string, extra: Partial<AuditLogRow> = {}): AuditLogRow => ({
  id,
  userId: null,
  action: "sign-out",
  status: "success",
  severity: "medium",
  ipAddress: "203.0.113.5",
  userAgent: null,
  metadata: null,
  createdAt: new Date("2026-11-30T12:00:00.000Z"),
  sessionId: "s",
  actorId: null,
  error: null,
  origin: "server",
  eventName: "auth.sign_out",
  method: "POST",
  path: "/sign-out",
  statusCode: 200,
  ...extra,
});

describe("direct insert (node:sqlite)", () => {
  it("writes a batch in one transaction, in the table's column names, dates as ISO text", async () => {
    const db = database();
    const insert = directInsertFor(db, table, undefined)!;
    expect(await insert([row("a"), row("b", { statusCode: null, metadata: '{"k":1}' })])).toBe(true);
    const rows = db.prepare("SELECT id, created_at, statusCode, metadata FROM audit ORDER BY id").all();
    expect(rows).toEqual([
      { id: "a", created_at: "2026-11-30T12:00:00.000Z", statusCode: 200, metadata: null },
      { id: "b", created_at: "2026-11-30T12:00:00.000Z", statusCode: null, metadata: '{"k":1}' },
    ]);
  });

  it("a refused row stores none of its batch and rejects", async () => {
    const db = database();
    const insert = directInsertFor(db, table, undefined)!;
    await insert([row("dup")]);
    await expect(insert([row("fresh"), row("dup")])).rejects.toThrow();
    expect(db.isTransaction).toBe(false);
    expect(db.prepare("SELECT id FROM audit").all()).toEqual([{ id: "dup" }]);
  });

  it("declines while another transaction is open on the connection (its rollback would take our rows)", async () => {
    const db = database();
    const insert = directInsertFor(db, table, undefined)!;
    db.exec("BEGIN");
    expect(await insert([row("a")])).toBe(false);
    db.exec("ROLLBACK");
    expect(db.prepare("SELECT count(*) AS n FROM audit").get()).toEqual({ n: 0 });
  });

  it("declines a value the adapter would transform (not a string, number, null or date)", async () => {
    const insert = directInsertFor(database(), table, undefined)!;
    expect(await insert([row("a", { statusCode: true as never })])).toBe(false);
  });

  it("is not offered where the adapter would write something else, or for other databases", () => {
    const db = database();
    expect(directInsertFor(db, table, "uuid")).toBeUndefined();
    expect(directInsertFor(db, undefined, undefined)).toBeUndefined();
    const { statusCode: _gone, ...fewer } = table.fields;
    expect(directInsertFor(db, { ...table, fields: fewer }, undefined)).toBeUndefined();
    expect(directInsertFor(() => ({}), table, undefined)).toBeUndefined();
    expect(directInsertFor({ prepare() {}, exec() {} }, table, undefined)).toBeUndefined();
  });
});
