import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import type { LogRecordExporter, ReadableLogRecord } from "@opentelemetry/sdk-logs";
import * as z from "zod";
import { optionSchemas, parseOptions } from "../options.js";
import { SCOPE_NAME } from "../version.js";
import { entryFromRecord, statusOf, type AuditLogEntry, type AuditStatus } from "./entry.js";
import type { AuditPage, AuditQuery, AuditReader } from "./reader.js";
import { storeBatchShape, WriteBatcher, type StoreBatchOptions } from "./write-batcher.js";

type MaybePromise<T> = T | Promise<T>;

/**
 * What a custom storage's `read` receives: our query, plus better-auth-audit-logs' `status`
 * ("success" | "failed") beside `outcome`, and `limit`/`offset` always set.
 */
export interface StorageReadOptions extends AuditQuery {
  status?: AuditStatus;
  limit: number;
  offset: number;
}

/** What `read` resolves to (an array of entries is accepted too). */
export interface StorageReadResult {
  entries: AuditLogEntry[];
  total: number;
}

/**
 * A custom store in better-auth-audit-logs' shape. `write` receives every record as an entry and
 * should ignore an id it already has (delivery is at-least-once); `read`/`readById` serve the
 * endpoints and must honour the query's `userId`.
 */
export interface AuditStorage {
  write(entry: AuditLogEntry): MaybePromise<void>;
  read?(query: StorageReadOptions): MaybePromise<StorageReadResult | AuditLogEntry[]>;
  readById?(id: string): MaybePromise<AuditLogEntry | null | undefined>;
  /** Needed for `retention`: deletes entries created before `date`, resolving to how many. */
  deleteOlderThan?(date: Date): MaybePromise<number | void>;
}

const optionalMethod = (name: string) =>
  z.custom<(...args: never[]) => unknown>((v) => v === undefined || typeof v === "function", { message: `storage.${name} must be a function if provided` }).optional();

/**
 * The shape of `storage`, checked at construction: `write` a function; `read`, `readById`,
 * `deleteOlderThan` functions when present. Other members (a class's own fields) are allowed.
 */
export const storageSchema = z
  .custom<unknown>((v) => typeof v === "object" && v !== null, { message: "expected a storage object with write(entry)" })
  .pipe(
    z.looseObject({
      write: z.custom<AuditStorage["write"]>((v) => typeof v === "function", { message: "custom storage must implement write(entry): Promise<void>" }),
      read: optionalMethod("read"),
      readById: optionalMethod("readById"),
      deleteOlderThan: optionalMethod("deleteOlderThan"),
    }),
  )
  .transform((v) => v as unknown as AuditStorage);

export interface StorageExporterOptions extends StoreBatchOptions {
  /** Called with the error and the entry when an entry could not be written after every attempt. */
  onWriteError?: (error: unknown, entry: AuditLogEntry) => void;
  /** Runs after entries are written (the retention sweeper checks whether a sweep is due). */
  afterWrite?: () => void;
}

const exporterOptionsSchema = z.strictObject({
  onWriteError: optionSchemas.fn().optional(),
  afterWrite: optionSchemas.fn().optional(),
  ...storeBatchShape,
});

/**
 * Hands each audit record to a custom storage's `write`, off the request path and in batches
 * (entries of a batch are written in turn; a retry resumes after the last one written).
 */
export class StorageExporter implements LogRecordExporter {
  #storage: AuditStorage;
  #batcher: WriteBatcher<AuditLogEntry>;
  /** Entries already written, so a retried batch does not write them twice. */
  #written = new WeakSet<AuditLogEntry>();

  constructor(storage: AuditStorage, options: StorageExporterOptions = {}) {
    parseOptions("StorageExporter", z.object({ storage: storageSchema }), { storage });
    parseOptions("StorageExporter", exporterOptionsSchema, options);
    this.#storage = storage;
    this.#batcher = new WriteBatcher<AuditLogEntry>({
      flushIntervalMs: options.flushIntervalMs,
      maxBatch: options.maxBatch,
      idOf: (entry) => entry.id,
      writeBatch: async (entries) => {
        for (const entry of entries) await this.#writeOne(entry);
      },
      writeOne: (entry) => this.#writeOne(entry),
      onFailure: (error, entry) => options.onWriteError?.(error, entry),
      afterWrite: options.afterWrite,
    });
  }

  /** The batcher: `whenStored(id)`, `settled()`. */
  get writes(): Pick<WriteBatcher<AuditLogEntry>, "whenStored" | "settled"> {
    return this.#batcher;
  }

  export(logs: ReadableLogRecord[], resultCallback: (result: ExportResult) => void): void {
    this.#batcher.add(logs.filter((r) => r.instrumentationScope.name === SCOPE_NAME).map(entryFromRecord));
    resultCallback({ code: ExportResultCode.SUCCESS });
  }

  forceFlush(): Promise<void> {
    return this.#batcher.flush();
  }

  async shutdown(): Promise<void> {
    await this.forceFlush();
  }

  async #writeOne(entry: AuditLogEntry): Promise<void> {
    if (this.#written.has(entry)) return;
    await this.#storage.write(entry);
    this.#written.add(entry);
  }
}

/** Reads through a custom storage; `undefined` when it cannot read. */
export function storageReader(storage: AuditStorage): AuditReader | undefined {
  const { read, readById } = storage;
  if (!read) return undefined;
  const list = async (query: AuditQuery): Promise<AuditPage> => {
    // the peer's storages filter on `status`; ours on `outcome`: both are given
    const options: StorageReadOptions = {
      ...query,
      status: query.outcome ? statusOf(query.outcome) : undefined,
      limit: query.limit ?? 50,
      offset: query.offset ?? 0,
    };
    const result = await read.call(storage, options);
    const page = Array.isArray(result) ? { entries: result, total: result.length } : result;
    // a storage that returns more than asked still answers one page
    return { entries: page.entries.slice(0, options.limit).map(withEntryDefaults), total: page.total };
  };
  return {
    list,
    async get(id) {
      if (readById) {
        const entry = (await readById.call(storage, id)) ?? null;
        return entry && withEntryDefaults(entry);
      }
      // without readById, the storage's own unfiltered read is searched
      return (await list({ limit: Number.MAX_SAFE_INTEGER })).entries.find((e) => e.id === id) ?? null;
    },
  };
}

/** An entry written by the peer's code (no `outcome`, metadata absent) in our shape. */
function withEntryDefaults(entry: AuditLogEntry): AuditLogEntry {
  const outcome = entry.outcome ?? (entry.status === "failed" ? "failure" : "success");
  return { ...entry, outcome, status: entry.status ?? statusOf(outcome), metadata: entry.metadata ?? {} };
}
