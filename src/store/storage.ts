import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import type { LogRecordExporter, ReadableLogRecord } from "@opentelemetry/sdk-logs";
import { SerialWrites } from "./serial-writes.js";
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
  #writes = new SerialWrites();

  constructor(storage: AuditStorage) {
    this.#storage = storage;
  }

  export(logs: ReadableLogRecord[], resultCallback: (result: ExportResult) => void): void {
    const entries = logs.filter((r) => r.instrumentationScope.name === SCOPE_NAME).map(entryFromRecord);
    this.#writes.run(async () => {
      for (const entry of entries) await this.#storage.write(entry);
    }, resultCallback);
  }

  forceFlush(): Promise<void> {
    return this.#writes.drained();
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
