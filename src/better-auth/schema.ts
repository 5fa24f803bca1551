import type { BetterAuthPlugin } from "better-auth";
import { mergeSchema } from "better-auth/db";

/**
 * The `auditLog` table: better-auth-audit-logs' columns (id, userId, action, status, severity,
 * ipAddress, userAgent, metadata, createdAt; indexes on userId, action, createdAt), so its tables
 * and rows carry over, then ours, all nullable. `status` keeps its words: "success" | "failed".
 * A user's rows outlive the user with userId null (FK ON DELETE SET NULL).
 */
export const auditLogSchema = {
  auditLog: {
    fields: {
      userId: { type: "string", required: false, index: true, references: { model: "user", field: "id", onDelete: "set null" } },
      action: { type: "string", required: true, index: true },
      status: { type: "string", required: true, sortable: true },
      severity: { type: "string", required: true, sortable: true },
      ipAddress: { type: "string", required: false },
      userAgent: { type: "string", required: false },
      /** JSON text. */
      metadata: { type: "string", required: false },
      createdAt: { type: "date", required: true, index: true },
      sessionId: { type: "string", required: false },
      actorId: { type: "string", required: false },
      error: { type: "string", required: false },
      /** "server" | "client" (POST /audit-log/insert). */
      origin: { type: "string", required: false, sortable: true },
      eventName: { type: "string", required: false },
      method: { type: "string", required: false },
      path: { type: "string", required: false },
      statusCode: { type: "number", required: false },
    },
  },
} satisfies NonNullable<BetterAuthPlugin["schema"]>;

export type AuditLogField = keyof (typeof auditLogSchema)["auditLog"]["fields"];

/** `schema: { auditLog: { modelName: "audit_logs", fields: { userId: "user_id" } } }`, as in better-auth's own plugins. */
export interface AuditLogSchemaOptions {
  auditLog?: { modelName?: string; fields?: Partial<Record<AuditLogField, string>> };
}

export function auditLogSchemaWith(options?: AuditLogSchemaOptions): typeof auditLogSchema {
  return mergeSchema(auditLogSchema, options as Parameters<typeof mergeSchema>[1]) as typeof auditLogSchema;
}
