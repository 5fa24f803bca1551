/**
 * Glue for better-auth-audit-logs 0.3.0's own tests (ported in this folder, assertions untouched):
 * its internal helpers, re-expressed through this package's public API. Nothing here decides an
 * assertion; every function does what the plugin does on a request.
 */
import { LoggerProvider } from "@opentelemetry/sdk-logs";
import { auditLog, auditLogSchema } from "otel-auth-audit/better-auth";
import { entryFromRow } from "../../src/store/adapter.js";
import { auditLogSchemaWith } from "../../src/better-auth/schema.js";

export { auditLog, MemoryStorage } from "otel-auth-audit/better-auth";
export type { AuditLogEntry, AuditLogStorage, StorageReadOptions, StorageReadResult } from "otel-auth-audit/better-auth";
/** The peer's hook context type: only `path` and `context` are read by the matchers. */
export type HookEndpointContext = any;
export type GenericEndpointContext = any;
/** The peer's resolved options (its internal shape). */
export type ResolvedOptions = any;

/** The peer's `writeEntry(ctx, entry, opts)`: the plugin records one entry as its after-hook does. */
export async function writeEntry(ctx: any, entry: any, opts: any, _modelName: string): Promise<void> {
  const plugin = auditLog({
    loggerProvider: new LoggerProvider(),
    storage: opts.storage,
    nonBlocking: opts.nonBlocking,
    piiRedaction: opts.piiRedaction,
    beforeLog: opts.beforeLog,
    afterLog: opts.afterLog,
    onWriteError: opts.onWriteError,
  });
  // better-auth's init hands the adapter over (the database store's)
  if (!opts.storage) plugin.init({ adapter: ctx.context.adapter } as never);
  const { logger } = plugin.audit;
  const event = logger.complete({
    action: entry.action,
    outcome: entry.status === "failed" ? "failure" : "success",
    severity: entry.severity,
    userId: entry.userId ?? undefined,
    ipAddress: entry.ipAddress ?? undefined,
    userAgent: entry.userAgent ?? undefined,
    metadata: entry.metadata,
    time: entry.createdAt,
  });
  if (opts.nonBlocking) {
    // as the after-hook: emitted after the response, the task covers the store write
    const task = new Promise((resolve) => setImmediate(resolve)).then(() => logger.emit(event)).then(() => plugin.audit.flush());
    ctx.context.runInBackground(task);
    return;
  }
  await logger.emit(event);
  await plugin.audit.flush();
}

/** The peer's `buildLogEntryFromAction`: the entry before the store (redaction happens in the store's pipeline). */
export async function buildLogEntryFromAction(action: string, status: "success" | "failed", params: any): Promise<any> {
  return {
    userId: params.userId,
    action,
    status,
    severity: status === "failed" ? "high" : "low",
    ipAddress: null,
    userAgent: null,
    metadata: params.metadata ?? {},
    createdAt: new Date(),
  };
}

/** The peer's `parseMetadata`: how a stored row's metadata column reads back. */
export function parseMetadata(raw: unknown): Record<string, unknown> {
  return entryFromRow({ id: "x", userId: null, action: "a", status: "success", severity: "low", ipAddress: null, userAgent: null, metadata: raw as string, createdAt: new Date() }).metadata;
}

/** The peer's `buildSchema(options)`: the table the plugin declares. */
export function buildSchema(options?: { schema?: any }): typeof auditLogSchema {
  return auditLogSchemaWith(options?.schema);
}
