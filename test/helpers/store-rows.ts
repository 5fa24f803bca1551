import type { AuditLogger } from "../../src/emit.js";

/**
 * Records the two events the store's write paths (direct insert, better-auth's adapter) must turn
 * into the same rows: one with every field set, one with the optional ones left out.
 */
export async function recordBothShapes(logger: AuditLogger, userId: string): Promise<void> {
  const input = {
    action: "admin:user-export",
    outcome: "failure" as const,
    userId,
    sessionId: "s-1",
    actorId: "admin-1",
    ipAddress: "203.0.113.9",
    userAgent: "UA/1",
    method: "POST",
    path: "/x",
    statusCode: 403,
    error: "FORBIDDEN",
    metadata: { reason: "quota", nested: { n: 2 } },
    time: new Date("2026-11-30T12:00:00.123Z"),
    id: "0193a0b0-0000-7000-8000-000000000001",
  };
  await logger.record(input);
  await logger.record({ ...input, id: "0193a0b0-0000-7000-8000-000000000002", userId: null, metadata: undefined, statusCode: undefined });
}
