import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import type { LogRecordExporter, ReadableLogRecord } from "@opentelemetry/sdk-logs";
import { SCOPE_NAME } from "../version.js";
import { entryFromRecord, type AuditLogEntry } from "./entry.js";
import type { AuditPage, AuditQuery, AuditReader } from "./reader.js";

type MaybePromise<T> = T | Promise<T>;

/**
 * A custom store in better-auth-audit-logs' shape. `write` receives every record as an entry and
 * should ignore an id it already has (delivery is at-least-once); `read`/`readById` serve the
 * endpoints and must honour the query's `userId`.
 */
export interface AuditStorage {
  write(entry: AuditLogEntry): MaybePromise<void>;
  read?(query: AuditQuery): MaybePromise<AuditPage | AuditLogEntry[]>;
  readById?(id: string): MaybePromise<AuditLogEntry | null | undefined>;
  /** Needed for `retention`: deletes entries created before `date`, resolving to how many. */
  deleteOlderThan?(date: Date): MaybePromise<number | void>;
}

/** Hands each audit record to a custom storage's `write`. */
export class StorageExporter implements LogRecordExporter {
  #storage: AuditStorage;
  #pending = new Set<Promise<unknown>>();

  constructor(storage: AuditStorage) {
    this.#storage = storage;
  }

  export(logs: ReadableLogRecord[], resultCallback: (result: ExportResult) => void): void {
    const done = (async () => {
      for (const record of logs) {
        if (record.instrumentationScope.name === SCOPE_NAME) await this.#storage.write(entryFromRecord(record));
      }
    })().then(
      () => resultCallback({ code: ExportResultCode.SUCCESS }),
      (error: unknown) => resultCallback({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) }),
    );
    this.#pending.add(done);
    void done.finally(() => this.#pending.delete(done));
  }

  async forceFlush(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  async shutdown(): Promise<void> {
    await this.forceFlush();
  }
}

/** Reads through a custom storage; `undefined` when it cannot read. */
export function storageReader(storage: AuditStorage): AuditReader | undefined {
  const { read, readById } = storage;
  if (!read) return undefined;
  const list = async (query: AuditQuery): Promise<AuditPage> => {
    const result = await read.call(storage, query);
    return Array.isArray(result) ? { entries: result, total: result.length } : result;
  };
  return {
    list,
    async get(id) {
      if (readById) return (await readById.call(storage, id)) ?? null;
      // without readById, the storage's own unfiltered read is searched
      return (await list({})).entries.find((e) => e.id === id) ?? null;
    },
  };
}
