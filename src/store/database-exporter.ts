import { diag } from "@opentelemetry/api";
import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import type { LogRecordExporter, ReadableLogRecord } from "@opentelemetry/sdk-logs";
import { SerialWrites } from "./serial-writes.js";
import { SCOPE_NAME } from "../version.js";
import { AUDIT_LOG_MODEL, rowFromEntry, type AuditLogRow, type StoreAdapter } from "./adapter.js";
import { entryFromRecord } from "./entry.js";

export interface DatabaseExporterOptions {
  /** better-auth's adapter (`ctx.context.adapter`), or a function returning it once it exists. */
  adapter: StoreAdapter | (() => StoreAdapter);
  /** Schema key of the table. Default `auditLog`. */
  model?: string;
  /** Users deleted since their records were made: those records are stored with userId null, as the FK's SET NULL would. */
  forgottenUsers?: { has(userId: string): boolean };
  /** Runs after each successful write (the retention sweeper checks whether a sweep is due). */
  afterWrite?: () => void;
}

/**
 * A LogRecordExporter that writes audit records into the app's own database through better-auth's
 * adapter: one row per record, the record's `audit.id` as the row id, so a re-delivered record is
 * stored once (at-least-once delivery upstream). Records of other instrumentation scopes are skipped.
 */
export class DatabaseExporter implements LogRecordExporter {
  #adapter: DatabaseExporterOptions["adapter"];
  #model: string;
  #options: DatabaseExporterOptions;
  #writes = new SerialWrites();
  #shutdown = false;

  constructor(options: DatabaseExporterOptions) {
    this.#options = options;
    this.#adapter = options.adapter;
    this.#model = options.model ?? AUDIT_LOG_MODEL;
  }

  get adapter(): StoreAdapter {
    return typeof this.#adapter === "function" ? this.#adapter() : this.#adapter;
  }

  export(logs: ReadableLogRecord[], resultCallback: (result: ExportResult) => void): void {
    if (this.#shutdown) {
      resultCallback({ code: ExportResultCode.FAILED, error: new Error("DatabaseExporter is shut down") });
      return;
    }
    // the record is read now, while the SDK still hands it over; the rows are written in turn
    const rows = this.#rowsOf(logs);
    this.#writes.run(() => this.#writeAll(rows), resultCallback, () => this.#afterWrite());
  }

  /** Resolves when every write started so far has finished. */
  forceFlush(): Promise<void> {
    return this.#writes.drained();
  }

  async shutdown(): Promise<void> {
    await this.forceFlush();
    this.#shutdown = true;
  }

  #rowsOf(logs: ReadableLogRecord[]): AuditLogRow[] {
    return logs.filter((r) => r.instrumentationScope.name === SCOPE_NAME).map((r) => rowFromEntry(entryFromRecord(r))).filter((row) => row.id);
  }

  async #writeAll(rows: AuditLogRow[]): Promise<void> {
    for (const row of rows) {
      if (row.userId && this.#options.forgottenUsers?.has(row.userId)) row.userId = null;
      await this.#write(row);
    }
  }

  async #write(row: AuditLogRow): Promise<void> {
    const adapter = this.adapter;
    // without a primary key to reject a duplicate (the memory adapter), look first
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

  #afterWrite(): void {
    try {
      this.#options.afterWrite?.();
    } catch (error) {
      diag.error("otel-auth-audit: DatabaseExporter afterWrite threw", error);
    }
  }
}
