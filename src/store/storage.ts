import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import type { LogRecordExporter, ReadableLogRecord } from "@opentelemetry/sdk-logs";
import * as z from "zod";
import { optionSchemas, parseOptions } from "../options.js";
import { SCOPE_NAME } from "../version.js";
import { entryFromRecord, statusOf, type AuditLogEntry, type AuditStatus } from "./entry.js";
import type { AuditPage, AuditQuery, AuditReader } from "./reader.js";
import { callReported, reportLost, writeWithRetry } from "./write-batcher.js";

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

export interface StorageExporterOptions {
  /** Called with the error and the entry when an entry could not be written after every attempt. */
  onWriteError?: (error: unknown, entry: AuditLogEntry) => void;
  /** Runs after an entry is written (the retention sweeper checks whether a sweep is due). */
  afterWrite?: () => void;
}

const exporterOptionsSchema = z.strictObject({
  onWriteError: optionSchemas.fn().optional(),
  afterWrite: optionSchemas.fn().optional(),
});

/**
 * Hands each audit record to a custom storage's `write` as it is emitted, as better-auth-audit-logs
 * does: the write is started, never awaited by the request (an in-process storage such as
 * MemoryStorage has the entry by the time the response is out). A failing write is retried with
 * backoff (3 attempts), then reported to `onWriteError` and `diag`. A storage has no batch API,
 * so its writes are not batched; the database store's are.
 */
export class StorageExporter implements LogRecordExporter {
  #storage: AuditStorage;
  #options: StorageExporterOptions;
  /** Writes in progress, by entry id (a re-delivery may repeat an id). */
  #inFlight = new Map<string, Set<Promise<unknown>>>();
  #failures = new Map<string, unknown>();

  constructor(storage: AuditStorage, options: StorageExporterOptions = {}) {
    parseOptions("StorageExporter", z.object({ storage: storageSchema }), { storage });
    parseOptions("StorageExporter", exporterOptionsSchema, options);
    this.#storage = storage;
    this.#options = options;
  }

  /** `whenStored(id)`: undefined once written, or the error that kept it out; `settled()`: every write started so far. */
  get writes(): { whenStored(id: string): Promise<unknown>; settled(): Promise<void> } {
    return {
      whenStored: async (id) => {
        const running = this.#inFlight.get(id);
        const results = running ? await Promise.all(running) : [];
        return results.find((r) => r !== undefined) ?? (running ? undefined : this.#failures.get(id));
      },
      settled: () => this.forceFlush(),
    };
  }

  export(logs: ReadableLogRecord[], resultCallback: (result: ExportResult) => void): void {
    for (const record of logs) if (record.instrumentationScope.name === SCOPE_NAME) this.#start(entryFromRecord(record));
    resultCallback({ code: ExportResultCode.SUCCESS });
  }

  async forceFlush(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight.values()].flatMap((set) => [...set]));
  }

  async shutdown(): Promise<void> {
    await this.forceFlush();
  }

  #start(entry: AuditLogEntry): void {
    const write = writeWithRetry(() => this.#storage.write(entry)).then(
      () => {
        callReported(this.#options.afterWrite, "afterWrite");
        return undefined;
      },
      (error: unknown) => {
        reportLost(error, entry, this.#options.onWriteError);
        this.#failures.set(entry.id, error);
        if (this.#failures.size > FAILURES_KEPT) this.#failures.delete(this.#failures.keys().next().value as string);
        return error;
      },
    );
    const set = this.#inFlight.get(entry.id) ?? new Set();
    set.add(write);
    this.#inFlight.set(entry.id, set);
    void write.finally(() => {
      set.delete(write);
      if (set.size === 0 && this.#inFlight.get(entry.id) === set) this.#inFlight.delete(entry.id);
    });
  }
}

const FAILURES_KEPT = 1000;

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
