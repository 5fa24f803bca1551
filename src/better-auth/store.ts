import type { LogRecordExporter } from "@opentelemetry/sdk-logs";
import * as z from "zod";
import type { AuditLogger } from "../emit.js";
import { parseOptions } from "../options.js";
import { AUDIT_LOG_MODEL, type StoreAdapter } from "../store/adapter.js";
import { DatabaseExporter } from "../store/database-exporter.js";
import { createStorePipeline, type StorePipeline } from "../store/pipeline.js";
import { DatabaseReader, type AuditReader } from "../store/reader.js";
import { RetentionSweeper } from "../store/retention.js";
import { StorageExporter, storageReader, type AuditStorage } from "../store/storage.js";
import { piiRedactionToOptions, RedactionProcessor } from "../processors/redaction.js";
import { AuditOptionsError } from "../errors.js";
import type { AuditLogOptions } from "./types.js";

/** The plugin's store, built in `init` once better-auth's adapter exists. */
export interface PluginStore {
  pipeline: StorePipeline;
  reader: AuditReader | undefined;
  sweeper: RetentionSweeper | undefined;
  /** Resolves to undefined once the record with this id is in every store, or to the error that kept it out. */
  whenStored(id: string): Promise<unknown>;
  /** Resolves when everything emitted so far is written, without hurrying the batch (background runners). */
  settled(): Promise<void>;
  /** Detaches the pipeline from the logger and stops the sweeper (a second `init`). */
  close(): void;
}

/** Whether records go to the app's database: default yes, unless a custom storage replaces it. */
export const usesDatabase = (options: AuditLogOptions): boolean => options.store ?? !options.storage;

/**
 * Fails at startup, not silently later: retention on a storage that cannot delete, which would keep
 * logs forever. Each store option's own shape is checked by the plugin's schema (storeOptionsShape).
 */
export function checkStoreOptions(options: AuditLogOptions): void {
  const retention = options.retention;
  if (!retention || retention.enabled === false) return;
  if (!usesDatabase(options) && !options.storage?.deleteOlderThan) {
    throw new AuditOptionsError(
      "otel-auth-audit: auditLog: option `retention` needs the database store or a storage with deleteOlderThan(date)",
      "retention",
      "auditLog",
    );
  }
}

export function createPluginStore(
  options: AuditLogOptions,
  logger: AuditLogger,
  adapter: StoreAdapter | undefined,
  forgottenUsers: { has(userId: string): boolean },
): PluginStore {
  const database = usesDatabase(options) && adapter !== undefined;
  const storage = options.storage;
  const retention = options.retention && options.retention.enabled !== false ? options.retention : undefined;
  const sweeper = retention
    ? new RetentionSweeper({
        days: retention.days!,
        intervalMs: retention.intervalMs,
        deleteBefore: (cutoff) => deleteOlderThan(cutoff, database ? adapter : undefined, storage),
      })
    : undefined;
  const common = {
    ...options.storeBatch,
    onWriteError: options.onWriteError,
    afterWrite: sweeper ? () => void sweeper.maybeSweep() : undefined,
  };

  const exporters: Array<LogRecordExporter & { writes: { whenStored(id: string): Promise<unknown>; settled(): Promise<void> } }> = [];
  if (database) exporters.push(new DatabaseExporter({ adapter: adapter!, forgottenUsers, ...common }));
  if (storage) exporters.push(new StorageExporter(storage, { onWriteError: common.onWriteError, afterWrite: common.afterWrite }));
  // secrets never reach the database either: the store's copy is redacted like the exported one
  const processors = options.storeProcessors ?? [new RedactionProcessor(piiRedactionToOptions(options.piiRedaction))];
  const pipeline = createStorePipeline({ exporters, processors });
  const detach = logger.addLoggerProvider(pipeline.provider);
  sweeper?.start();

  return {
    pipeline,
    reader: (storage && storageReader(storage)) ?? (database ? new DatabaseReader({ adapter: () => adapter! }) : undefined),
    sweeper,
    async whenStored(id) {
      const errors = await Promise.all(exporters.map((e) => e.writes.whenStored(id)));
      return errors.find((e) => e !== undefined);
    },
    async settled() {
      await Promise.all(exporters.map((e) => e.writes.settled()));
    },
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
 * Rejects when nothing can be deleted (a storage without `deleteOlderThan`).
 */
const deleteExpiredOptionsSchema = z.strictObject({
  days: z.number().positive().refine(Number.isFinite, { message: "expected a finite number of days" }),
  modelName: z.string().min(1).optional(),
  storage: z.custom<AuditStorage>((v) => typeof v === "object" && v !== null, { message: "expected a storage object" }).optional(),
  now: z.date().optional(),
});

export async function deleteExpiredAuditLogs(
  ctx: { adapter: unknown; options?: { plugins?: Array<{ id?: string; options?: unknown }> } },
  options: { days: number; modelName?: string; storage?: AuditStorage; now?: Date },
): Promise<number> {
  parseOptions("deleteExpiredAuditLogs", deleteExpiredOptionsSchema, options);
  const cutoff = new Date((options.now ?? new Date()).getTime() - options.days * 24 * 60 * 60 * 1000);
  // the plugin's own configuration, when the context is better-auth's: its storage, its table
  const plugin = ctx.options?.plugins?.find((p) => p.id === "audit-log")?.options as AuditLogOptions | undefined;
  const storage = options.storage ?? plugin?.storage;
  const database = options.storage ? false : plugin ? usesDatabase(plugin) : true;
  if (!database && !storage?.deleteOlderThan) {
    throw new TypeError("deleteExpiredAuditLogs: this storage cannot delete; give it deleteOlderThan(date)");
  }
  const adapter = database ? (ctx.adapter as StoreAdapter | undefined) : undefined;
  if (database && (!adapter || typeof adapter.deleteMany !== "function")) {
    throw new TypeError("deleteExpiredAuditLogs: pass better-auth's context (await auth.$context) or a storage with deleteOlderThan(date)");
  }
  let deleted = 0;
  if (adapter) deleted += await adapter.deleteMany({ model: options.modelName ?? AUDIT_LOG_MODEL, where: [{ field: "createdAt", value: cutoff, operator: "lt" }] });
  if (storage?.deleteOlderThan && (!database || plugin?.store)) deleted += (await storage.deleteOlderThan(cutoff)) ?? 0;
  return deleted;
}
