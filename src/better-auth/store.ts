import type { LogRecordExporter } from "@opentelemetry/sdk-logs";
import type { AuditLogger } from "../emit.js";
import { AUDIT_LOG_MODEL, type StoreAdapter } from "../store/adapter.js";
import { DatabaseExporter } from "../store/database-exporter.js";
import { createStorePipeline, type StorePipeline } from "../store/pipeline.js";
import { DatabaseReader, type AuditReader } from "../store/reader.js";
import { RetentionSweeper } from "../store/retention.js";
import { StorageExporter, storageReader, type AuditStorage } from "../store/storage.js";
import { piiRedactionToOptions, RedactionProcessor } from "../processors/redaction.js";
import type { AuditLogOptions } from "./types.js";

/** The plugin's store, built in `init` once better-auth's adapter exists. */
export interface PluginStore {
  pipeline: StorePipeline;
  reader: AuditReader | undefined;
  sweeper: RetentionSweeper | undefined;
  /** Detaches the pipeline from the logger and stops the sweeper (a second `init`). */
  close(): void;
}

/** Whether records go to the app's database: default yes, unless a custom storage replaces it. */
export const usesDatabase = (options: AuditLogOptions): boolean => options.store ?? !options.storage;

/** Fails at startup, not silently later: retention on a storage that cannot delete would keep logs forever. */
export function checkRetention(options: AuditLogOptions): void {
  const retention = options.retention;
  if (!retention || retention.enabled === false) return;
  if (!(retention.days > 0)) throw new RangeError("auditLog: retention.days must be a positive number");
  if (!usesDatabase(options) && !options.storage?.deleteOlderThan) {
    throw new TypeError("auditLog: retention needs the database store or a storage with deleteOlderThan(date)");
  }
}

export function createPluginStore(
  options: AuditLogOptions,
  logger: AuditLogger,
  adapter: StoreAdapter,
  forgottenUsers: { has(userId: string): boolean },
): PluginStore {
  const database = usesDatabase(options);
  const storage = options.storage;
  const retention = options.retention && options.retention.enabled !== false ? options.retention : undefined;
  const sweeper = retention
    ? new RetentionSweeper({ ...retention, deleteBefore: (cutoff) => deleteOlderThan(cutoff, database ? adapter : undefined, storage) })
    : undefined;

  const exporters: LogRecordExporter[] = [];
  if (database) {
    exporters.push(new DatabaseExporter({ adapter, forgottenUsers, afterWrite: sweeper ? () => void sweeper.maybeSweep() : undefined }));
  }
  if (storage) exporters.push(new StorageExporter(storage));
  // secrets never reach the database either: the store's copy is redacted like the exported one
  const processors = options.storeProcessors ?? [new RedactionProcessor(piiRedactionToOptions(options.piiRedaction))];
  const pipeline = createStorePipeline({ exporters, processors });
  const detach = logger.addLoggerProvider(pipeline.provider);
  sweeper?.start();

  return {
    pipeline,
    reader: (storage && storageReader(storage)) ?? (database ? new DatabaseReader({ adapter }) : undefined),
    sweeper,
    close() {
      detach();
      sweeper?.stop();
      void pipeline.shutdown();
    },
  };
}

async function deleteOlderThan(cutoff: Date, adapter: StoreAdapter | undefined, storage: AuditStorage | undefined): Promise<number> {
  let deleted = 0;
  if (adapter) deleted += await adapter.deleteMany({ model: AUDIT_LOG_MODEL, where: [{ field: "createdAt", value: cutoff, operator: "lt" }] });
  if (storage?.deleteOlderThan) deleted += (await storage.deleteOlderThan(cutoff)) ?? 0;
  return deleted;
}

/**
 * Deletes stored audit records older than `days`, for a scheduler of your own (better-auth-audit-logs'
 * function of the same name): `await deleteExpiredAuditLogs(await auth.$context, { days: 90 })`.
 */
export async function deleteExpiredAuditLogs(
  ctx: { adapter: unknown },
  options: { days: number; modelName?: string; storage?: AuditStorage; now?: Date },
): Promise<number> {
  if (!(options.days > 0)) throw new RangeError("days must be a positive number");
  const cutoff = new Date((options.now ?? new Date()).getTime() - options.days * 24 * 60 * 60 * 1000);
  const adapter = options.storage ? undefined : (ctx.adapter as StoreAdapter);
  if (!adapter) return deleteOlderThan(cutoff, undefined, options.storage);
  return adapter.deleteMany({ model: options.modelName ?? AUDIT_LOG_MODEL, where: [{ field: "createdAt", value: cutoff, operator: "lt" }] });
}
