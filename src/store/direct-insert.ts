import type { AuditLogRow } from "./adapter.js";

/**
 * Writes a batch of rows with one statement or one transaction, straight to the database under
 * better-auth's adapter. Resolves to false when it cannot now (the caller writes through the
 * adapter instead); rejects, having stored none of the rows, when the database refuses one.
 */
export type DirectInsert = (rows: readonly AuditLogRow[]) => Promise<boolean>;

/** The table as better-auth's context describes it (`ctx.tables.auditLog`). */
export interface TableShape {
  modelName: string;
  fields: Record<string, { type?: unknown; fieldName?: string }>;
}

/** What the adapter's create would write: the row's keys, in this order. */
const ROW_KEYS = [
  "id",
  "userId",
  "action",
  "status",
  "severity",
  "ipAddress",
  "userAgent",
  "metadata",
  "createdAt",
  "sessionId",
  "actorId",
  "error",
  "origin",
  "eventName",
  "method",
  "path",
  "statusCode",
] as const satisfies ReadonlyArray<keyof AuditLogRow>;

/** pg refuses a statement with more bind parameters than this. */
const PG_MAX_PARAMETERS = 65_535;

const inserts = new WeakMap<object, DirectInsert>();

/** Lets the store write batches past `adapter` (the plugin knows the database behind it; the adapter does not say). */
export function attachDirectInsert(adapter: object, insert: DirectInsert | undefined): void {
  if (insert) inserts.set(adapter, insert);
}

export function directInsertOf(adapter: object): DirectInsert | undefined {
  return inserts.get(adapter);
}

interface SqliteStatement {
  run(...values: unknown[]): unknown;
}
interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  exec(sql: string): void;
  isTransaction: boolean;
}
interface PgPool {
  query(text: string, values: unknown[]): Promise<unknown>;
}

/**
 * A direct insert for the databases better-auth's Kysely adapter opens itself from a driver
 * object — node:sqlite's DatabaseSync and pg's Pool — when the adapter would write exactly the
 * row's values (no id strategy that rewrites ids); undefined for anything else. Through the
 * adapter every row is its own INSERT … RETURNING, compiled, prepared and read back: most of
 * the store's cost per request.
 */
export function directInsertFor(database: unknown, table: TableShape | undefined, generateId: unknown): DirectInsert | undefined {
  if (!table || generateId !== undefined || database === null || typeof database !== "object") return undefined;
  const columns: string[] = [];
  const dates: boolean[] = [];
  for (const key of ROW_KEYS) {
    const field = key === "id" ? { type: "string" } : table.fields[key];
    if (!field) return undefined;
    columns.push(key === "id" ? "id" : (field.fieldName ?? key));
    dates.push(field.type === "date");
  }
  const db = database as Record<string, unknown>;
  if (isNodeSqlite(db)) return sqliteInsert(db, table.modelName, columns, dates);
  if (isPgPool(db)) return pgInsert(db, table.modelName, columns, dates);
  return undefined;
}

// better-auth's own tests of the kind: DatabaseSync has createSession; a pg Pool counts its clients
function isNodeSqlite(db: Record<string, unknown>): db is Record<string, unknown> & SqliteDatabase {
  return typeof db.createSession === "function" && typeof db.prepare === "function" && typeof db.exec === "function" && typeof db.isTransaction === "boolean";
}

function isPgPool(db: Record<string, unknown>): db is Record<string, unknown> & PgPool {
  return typeof db.connect === "function" && typeof db.query === "function" && typeof db.totalCount === "number";
}

const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** The row's values as the adapter hands them to the driver; undefined when a value is not one it writes as is. */
function valuesOf(row: AuditLogRow, dates: boolean[], isoDates: boolean): unknown[] | undefined {
  const values: unknown[] = [];
  for (let i = 0; i < ROW_KEYS.length; i++) {
    let value: unknown = row[ROW_KEYS[i]!];
    if (value === undefined) value = null;
    if (dates[i] && typeof value === "string") value = new Date(value);
    if (value instanceof Date) {
      if (!dates[i]) return undefined;
      value = isoDates ? value.toISOString() : value;
    } else if (value !== null && typeof value !== "string" && typeof value !== "number") return undefined;
    values.push(value);
  }
  return values;
}

/**
 * node:sqlite: one transaction, one prepared statement reused for every row, all synchronous, so
 * nothing of better-auth's can run in between. Dates are ISO text, as the adapter writes them
 * there. When better-auth has a transaction open on the connection, our rows would join it: wait.
 */
function sqliteInsert(db: SqliteDatabase, table: string, columns: string[], dates: boolean[]): DirectInsert {
  const sql = `insert into ${quoted(table)} (${columns.map(quoted).join(", ")}) values (${columns.map(() => "?").join(", ")})`;
  let statement: SqliteStatement | undefined;
  return async (rows) => {
    if (db.isTransaction) return false;
    const values: unknown[][] = [];
    for (const row of rows) {
      const v = valuesOf(row, dates, true);
      if (!v) return false;
      values.push(v);
    }
    statement ??= db.prepare(sql);
    db.exec("begin");
    try {
      for (const v of values) statement.run(...v);
      db.exec("commit");
    } catch (error) {
      if (db.isTransaction) db.exec("rollback");
      statement = undefined; // prepared again next time (a dropped and re-created table)
      throw error;
    }
    return true;
  };
}

/** pg: one multi-row INSERT per batch (one round trip, atomic); dates go to the driver as Dates, as the adapter's do. */
function pgInsert(pool: PgPool, table: string, columns: string[], dates: boolean[]): DirectInsert {
  const head = `insert into ${quoted(table)} (${columns.map(quoted).join(", ")}) values `;
  const perStatement = Math.floor(PG_MAX_PARAMETERS / columns.length);
  return async (rows) => {
    const all: unknown[][] = [];
    for (const row of rows) {
      const v = valuesOf(row, dates, false);
      if (!v) return false;
      all.push(v);
    }
    // a batch past pg's parameter limit takes more statements; a row of one already stored is
    // then found by the caller's one-by-one pass (re-delivery), so none is lost or doubled
    for (let start = 0; start < all.length; start += perStatement) {
      const chunk = all.slice(start, start + perStatement);
      const tuples = chunk.map((_, r) => `(${columns.map((_, c) => `$${r * columns.length + c + 1}`).join(", ")})`);
      await pool.query(head + tuples.join(", "), chunk.flat());
    }
    return true;
  };
}
