import * as z from "zod";
import { optionSchemas, parseOptions } from "../options.js";
import { outcomeOf, type AuditLogEntry } from "./entry.js";
import type { AuditStorage, StorageReadOptions, StorageReadResult } from "./storage.js";

export interface MemoryStorageOptions {
  /** The oldest entries are dropped beyond this many. @default 10000 */
  maxEntries?: number;
}

const DEFAULT_MAX_ENTRIES = 10_000;
const optionsSchema = z.strictObject({ maxEntries: optionSchemas.positiveInt().optional() });

/**
 * A storage that keeps entries in an array, for tests (better-auth-audit-logs' `MemoryStorage`):
 * `auditLog({ storage: new MemoryStorage() })`, then assert on `storage.entries` (after
 * `await plugin.audit.flush()`: writes are batched off the request path). A re-delivered entry (same
 * id) is kept once.
 */
export class MemoryStorage implements AuditStorage {
  readonly entries: AuditLogEntry[] = [];
  readonly #maxEntries: number;

  constructor(options: MemoryStorageOptions = {}) {
    parseOptions("MemoryStorage", optionsSchema, options);
    this.#maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  }

  async write(entry: AuditLogEntry): Promise<void> {
    if (this.entries.some((e) => e.id === entry.id)) return;
    this.entries.push(entry);
    if (this.entries.length > this.#maxEntries) this.entries.splice(0, this.entries.length - this.#maxEntries);
  }

  async read(options: StorageReadOptions): Promise<StorageReadResult> {
    const outcome = options.outcome ?? (options.status ? outcomeOf(options.status) : undefined);
    const matching = this.entries.filter(
      (e) =>
        (options.userId === undefined || e.userId === options.userId) &&
        (options.action === undefined || e.action === options.action) &&
        (outcome === undefined || (e.outcome ?? outcomeOf(e.status)) === outcome) &&
        (options.severity === undefined || e.severity === options.severity) &&
        (options.origin === undefined || (e.origin ?? "server") === options.origin) &&
        (options.from === undefined || e.createdAt >= options.from) &&
        (options.to === undefined || e.createdAt <= options.to),
    );
    const offset = options.offset ?? 0;
    const limit = options.limit ?? matching.length;
    const page = matching.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime()).slice(offset, offset + limit);
    return { entries: page, total: matching.length };
  }

  async readById(id: string): Promise<AuditLogEntry | null> {
    return this.entries.find((e) => e.id === id) ?? null;
  }

  async deleteOlderThan(date: Date): Promise<number> {
    const before = this.entries.length;
    const kept = this.entries.filter((e) => e.createdAt >= date);
    this.entries.length = 0;
    this.entries.push(...kept);
    return before - kept.length;
  }
}
