import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import type { LogRecordExporter, ReadableLogRecord } from "@opentelemetry/sdk-logs";
import * as z from "zod";
import { optionSchemas, parseOptions } from "../options.js";
import { AUDIT_ATTR } from "../attributes.js";
import { SCOPE_NAME } from "../version.js";
import { AUDIT_LOG_MODEL, entryFromRow, rowFromEntry, type AuditLogRow, type StoreAdapter } from "./adapter.js";
import { directInsertOf } from "./direct-insert.js";
import { entryFromRecord, type AuditLogEntry } from "./entry.js";
import { reportLost, storeBatchShape, WriteBatcher, type StoreBatchOptions } from "./write-batcher.js";

export interface DatabaseExporterOptions extends StoreBatchOptions {
  /** better-auth's adapter (`ctx.context.adapter`), or a function returning it once it exists. */
  adapter: StoreAdapter | (() => StoreAdapter);
  /** Schema key of the table. Default `auditLog`. */
  model?: string;
  /** Users deleted since their records were made: those records are stored with userId null, as the FK's SET NULL would. */
  forgottenUsers?: { has(userId: string): boolean };
  /** Runs after each successful write (the retention sweeper checks whether a sweep is due). */
  afterWrite?: () => void;
  /** Called with the error and the entry when a record could not be stored after every attempt. */
  onWriteError?: (error: unknown, entry: AuditLogEntry) => void;
}

const optionsSchema = z.strictObject({
  adapter: z.union([optionSchemas.withMethods<StoreAdapter>("create"), optionSchemas.fn()]),
  model: z.string().min(1).optional(),
  forgottenUsers: optionSchemas.withMethods<{ has(userId: string): boolean }>("has").optional(),
  afterWrite: optionSchemas.fn().optional(),
  onWriteError: optionSchemas.fn().optional(),
  ...storeBatchShape,
});

/**
 * A LogRecordExporter that writes audit records into the app's own database through better-auth's
 * adapter, off the request path: records are queued and written in batches, one transaction per
 * batch (see WriteBatcher). The record's `audit.id` is the row id, so a re-delivered record is
 * stored once (at-least-once delivery upstream). Records of other instrumentation scopes are skipped.
 */
export class DatabaseExporter implements LogRecordExporter {
  #adapter: DatabaseExporterOptions["adapter"];
  #model: string;
  #options: DatabaseExporterOptions;
  #batcher: WriteBatcher<Pending>;
  #shutdown = false;
  /** Rows already stored, so a retried batch does not insert them again. */
  #written = new WeakSet<Pending>();

  constructor(options: DatabaseExporterOptions) {
    parseOptions("DatabaseExporter", optionsSchema, options);
    this.#options = options;
    this.#adapter = options.adapter;
    this.#model = options.model ?? AUDIT_LOG_MODEL;
    this.#batcher = new WriteBatcher<Pending>({
      flushIntervalMs: options.flushIntervalMs,
      maxBatch: options.maxBatch,
      idOf: (item) => item.id,
      writeBatch: (items) => this.#writeBatch(items),
      writeOne: (item) => this.#writeOne(item),
      onFailure: (error, item) => this.#options.onWriteError?.(error, entryFromRow(rowOf(item))),
      afterWrite: options.afterWrite,
    });
  }

  get adapter(): StoreAdapter {
    return typeof this.#adapter === "function" ? this.#adapter() : this.#adapter;
  }

  /** The batcher: `whenStored(id)`, `settled()`. */
  get writes(): Pick<WriteBatcher<Pending>, "whenStored" | "settled"> {
    return this.#batcher;
  }

  export(logs: ReadableLogRecord[], resultCallback: (result: ExportResult) => void): void {
    if (this.#shutdown) {
      resultCallback({ code: ExportResultCode.FAILED, error: new Error("DatabaseExporter is shut down") });
      return;
    }
    // only the id is read now; the record (read-only once emitted) becomes a row when its batch is written
    this.#batcher.add(this.#pendingOf(logs));
    resultCallback({ code: ExportResultCode.SUCCESS });
  }

  /** Writes what is queued and resolves when every write started so far has finished. */
  forceFlush(): Promise<void> {
    return this.#batcher.flush();
  }

  async shutdown(): Promise<void> {
    await this.forceFlush();
    this.#shutdown = true;
  }

  #pendingOf(logs: ReadableLogRecord[]): Pending[] {
    const pending: Pending[] = [];
    for (const record of logs) {
      if (record.instrumentationScope.name !== SCOPE_NAME) continue;
      const id = record.attributes[AUDIT_ATTR.id];
      // no id, no row: reported, never dropped in silence (a beforeLog that returned a partial event)
      if (typeof id !== "string" || !id || !record.attributes[AUDIT_ATTR.action]) {
        reportLost(new Error("the audit record has no audit.id or audit.action; it cannot be stored"), entryFromRecord(record), this.#options.onWriteError);
      } else pending.push({ id, record });
    }
    return pending;
  }

  #prepare(item: Pending): AuditLogRow {
    const row = rowOf(item);
    if (row.userId && this.#options.forgottenUsers?.has(row.userId)) row.userId = null;
    return row;
  }

  /**
   * One transaction for the batch (adapters without transactions run the inserts in turn), or one
   * statement past the adapter where the plugin knows the database (direct-insert.ts). If it
   * fails, the rows are written one by one, so a re-delivered row or one whose user is gone does
   * not hold back the others; rows still failing make the batch fail (and be retried without the
   * rows already written).
   */
  async #writeBatch(items: Pending[]): Promise<void> {
    const adapter = this.adapter;
    const todo = items.filter((item) => !this.#written.has(item));
    // without a primary key to reject a duplicate (the memory adapter), look first
    const fresh = adapter.id === "memory" ? await this.#withoutStored(todo) : todo;
    if (fresh.length === 0) return;
    const direct = this.#model === AUDIT_LOG_MODEL ? directInsertOf(adapter) : undefined;
    if (direct) {
      try {
        if (await direct(fresh.map((item) => this.#prepare(item)))) {
          for (const item of fresh) this.#written.add(item);
          return;
        }
      } catch {
        return this.#oneByOne(fresh);
      }
    }
    if (fresh.length === 1) return this.#writeOne(fresh[0]!);
    const insertAll = async (db: Pick<StoreAdapter, "create">) => {
      for (const item of fresh) await db.create({ model: this.#model, data: { ...this.#prepare(item) }, forceAllowId: true });
    };
    try {
      if (adapter.transaction) await adapter.transaction((trx) => insertAll(trx));
      else await insertAll(adapter);
      for (const item of fresh) this.#written.add(item);
      return;
    } catch {
      // one bad row fails the transaction: find it by writing them one by one
    }
    return this.#oneByOne(fresh);
  }

  async #oneByOne(items: Pending[]): Promise<void> {
    let firstError: unknown;
    for (const item of items) {
      try {
        await this.#writeOne(item);
      } catch (error) {
        firstError ??= error;
      }
    }
    if (firstError !== undefined) throw firstError;
  }

  async #withoutStored(items: Pending[]): Promise<Pending[]> {
    const fresh: Pending[] = [];
    for (const item of items) if (!(await this.#exists(item.id)) && !fresh.some((r) => r.id === item.id)) fresh.push(item);
    return fresh;
  }

  /** One row alone, telling a re-delivery and a deleted subject from a real failure. */
  async #writeOne(item: Pending): Promise<void> {
    if (this.#written.has(item)) return;
    await this.#insertOne(item);
    this.#written.add(item);
  }

  async #insertOne(item: Pending): Promise<void> {
    const adapter = this.adapter;
    const row = this.#prepare(item);
    if (adapter.id === "memory" && (await this.#exists(row.id))) return;
    try {
      await adapter.create({ model: this.#model, data: { ...row }, forceAllowId: true });
    } catch (error) {
      if (await this.#exists(row.id)) return; // a re-delivered record: already stored
      if (row.userId && !(await this.#userExists(row.userId))) {
        // the subject was deleted before the record arrived (delete-user): the FK wants null
        await adapter.create({ model: this.#model, data: { ...row, userId: null }, forceAllowId: true });
        return;
      }
      throw error;
    }
  }

  async #exists(id: string): Promise<boolean> {
    return (await this.adapter.findOne({ model: this.#model, where: [{ field: "id", value: id }] })) !== null;
  }

  async #userExists(userId: string): Promise<boolean> {
    try {
      return (await this.adapter.findOne({ model: "user", where: [{ field: "id", value: userId }] })) !== null;
    } catch {
      return true;
    }
  }
}

/** A record waiting for its batch; its row is built once, when first needed. */
interface Pending {
  id: string;
  record: ReadableLogRecord;
  row?: AuditLogRow;
}

function rowOf(item: Pending): AuditLogRow {
  item.row ??= rowFromEntry(entryFromRecord(item.record));
  return item.row;
}
