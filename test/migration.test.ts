/**
 * Moving a database from better-auth-audit-logs: its `auditLog` table (created by its own schema
 * through better-auth's migrations) is refused with better-auth's clear message until migrated,
 * then `getMigrations` (what `npx auth migrate` runs) adds our columns, old rows read fine and new
 * records are stored.
 */
import { describe, expect, it } from "vitest";
import { DatabaseSync } from "node:sqlite";
import { betterAuth, type BetterAuthOptions, type BetterAuthPlugin } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { auditLog } from "otel-auth-audit/better-auth";
import { createTestAudit } from "otel-auth-audit/testing";
import { BASE_URL, requester } from "./helpers/auth-app.js";

/** better-auth-audit-logs 0.3.0's table, field for field (its src/schema.ts). */
const peerPlugin = {
  id: "audit-log",
  schema: {
    auditLog: {
      modelName: "auditLog",
      fields: {
        userId: { type: "string", required: false, references: { model: "user", field: "id", onDelete: "set null" }, index: true },
        action: { type: "string", required: true, sortable: true, index: true },
        status: { type: "string", required: true, sortable: true },
        severity: { type: "string", required: true, sortable: true },
        ipAddress: { type: "string", required: false },
        userAgent: { type: "string", required: false, returned: false },
        metadata: { type: "string", required: false },
        createdAt: { type: "date", required: true, sortable: true, index: true, defaultValue: () => new Date() },
      },
    },
  },
} satisfies BetterAuthPlugin;

const base = (database: DatabaseSync, plugins: BetterAuthPlugin[]) =>
  ({
    baseURL: BASE_URL,
    secret: "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz",
    database,
    emailAndPassword: { enabled: true },
    rateLimit: { enabled: false },
    advanced: { ipAddress: { ipAddressHeaders: ["x-forwarded-for"] } },
    logger: { disabled: true },
    plugins,
  }) satisfies BetterAuthOptions;

describe("from a table better-auth-audit-logs created", () => {
  it("fails with a message that says what to run, then works once migrated; the peer's rows read back", async () => {
    const database = new DatabaseSync(":memory:");
    await (await getMigrations(base(database, [peerPlugin]))).runMigrations();
    const columns = () => database.prepare(`PRAGMA table_info("auditLog")`).all().map((c) => c.name as string);
    expect(columns().sort()).toEqual(["action", "createdAt", "id", "ipAddress", "metadata", "severity", "status", "userAgent", "userId"]);
    // a row the peer wrote: its words ("failed"), metadata as JSON text, no user
    database
      .prepare(`INSERT INTO auditLog (id, userId, action, status, severity, ipAddress, userAgent, metadata, createdAt) VALUES (?, NULL, ?, ?, ?, ?, ?, ?, ?)`)
      .run("peer-row-1", "sign-in:email", "failed", "high", "198.51.100.4", "old-agent", JSON.stringify({ error: { code: "INVALID_EMAIL_OR_PASSWORD" } }), new Date(Date.now() - 60_000).toISOString());

    const t = createTestAudit();
    const plugin = auditLog({ loggerProvider: t.provider });
    const config = base(database, [plugin]);

    // before migrating: better-auth refuses the schema and names the columns and the command
    const before = betterAuth(config);
    await expect(requester(before.handler).post("/sign-up/email", { email: "early@example.com", password: "correct-horse-battery-1", name: "E" })).rejects.toThrow(
      /Missing columns[\s\S]*auditLog\.sessionId[\s\S]*npx auth migrate/,
    );

    // what `npx auth migrate` does: better-auth's own migrations, from the app's config
    const { toBeAdded, toBeCreated, runMigrations } = await getMigrations(config);
    expect(toBeCreated).toEqual([]);
    expect(toBeAdded.flatMap((t) => Object.keys(t.fields)).sort()).toEqual(["actorId", "error", "eventName", "method", "origin", "path", "sessionId", "statusCode"]);
    await runMigrations();
    expect(columns()).toEqual(expect.arrayContaining(["sessionId", "actorId", "error", "origin", "eventName", "method", "path", "statusCode"]));

    const auth = betterAuth(config);
    const app = requester(auth.handler);
    const r = await app.post("/sign-up/email", { email: "moved@example.com", password: "correct-horse-battery-1", name: "M" });
    expect(r.status).toBe(200);
    const inserted = await app.post("/audit-log/insert", { action: "data:export", metadata: { rows: 3 } }, r.cookie);
    expect(inserted.json).toMatchObject({ success: true });
    const mine = await app.get("/audit-log/list", r.cookie);
    expect(mine.json.entries.map((e: { action: string }) => e.action)).toEqual(["data:export", "sign-up:email"]);

    const all = await plugin.audit.list({ limit: 50 });
    const peerRow = all.entries.find((e) => e.id === "peer-row-1");
    expect(peerRow).toMatchObject({
      action: "sign-in:email",
      outcome: "failure",
      status: "failed",
      severity: "high",
      origin: "server",
      sessionId: null,
      metadata: { error: { code: "INVALID_EMAIL_OR_PASSWORD" } },
    });
    expect((await plugin.audit.list({ outcome: "failure" })).entries.map((e) => e.id)).toContain("peer-row-1");
  });
});
