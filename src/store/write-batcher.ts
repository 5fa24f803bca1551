import { diag } from "@opentelemetry/api";
import * as z from "zod";
import { optionSchemas } from "../options.js";

/** How the store batches its writes. */
export interface StoreBatchOptions {
  /**
   * How long a record may wait for others to join its batch, in ms. Reads, `flush()` and shutdown
   * do not wait for it. @default 50
   */
  flushIntervalMs?: number;
  /** A batch is written at once when it reaches this many records. @default 100 */
  maxBatch?: number;
}

/** The batching options' schema, spread into the strict schemas of the store's constructors. */
export const storeBatchShape = {
  flushIntervalMs: optionSchemas.nonNegativeInt().max(60_000).optional(),
  maxBatch: optionSchemas.positiveInt().max(10_000).optional(),
};

/** better-auth-audit-logs' retry: 3 attempts, 100 ms then 200 ms apart. */
export const WRITE_ATTEMPTS = 3;
export const RETRY_BASE_DELAY_MS = 100;
export const DEFAULT_FLUSH_INTERVAL_MS = 50;
export const DEFAULT_MAX_BATCH = 100;

export interface WriteBatcherOptions<T> extends StoreBatchOptions {
  /** Writes a whole batch (one transaction or one multi-row insert), or rejects. */
  writeBatch(items: T[]): Promise<void>;
  /** Writes one item alone: after a batch fails for good, to isolate a bad item. */
  writeOne(item: T): Promise<void>;
  /** An item that could not be written, after every attempt. */
  onFailure(error: unknown, item: T): void;
  /** Runs after a batch is written (the retention sweeper checks whether a sweep is due). */
  afterWrite?(): void;
  /** The key `whenStored` looks items up by. */
  idOf(item: T): string;
  /** Tests shorten the backoff. @default 100 */
  retryBaseDelayMs?: number;
}

/** Failures remembered for `whenStored` of an id already gone from the queue. */
const FAILURES_KEPT = 1000;

/**
 * Collects store writes off the request path and writes them in batches: one batch at a time, in
 * emit order, when `flushIntervalMs` has passed since the first queued item, when `maxBatch` items
 * wait, or at once on `flush()`. A failing batch is retried with backoff (3 attempts); after the
 * last, each item is tried once alone so one bad row does not take its neighbours with it, and
 * every item that still fails goes to `onFailure`.
 */
export class WriteBatcher<T> {
  readonly flushIntervalMs: number;
  readonly maxBatch: number;
  #options: WriteBatcherOptions<T>;
  #queue: T[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Every batch handed to `#write`, chained: batches never overlap. */
  #tail: Promise<void> = Promise.resolve();
  /** Ids queued or being written → how many times (a re-delivery may repeat an id). */
  #pending = new Map<string, number>();
  #waiters = new Map<string, Array<(error: unknown) => void>>();
  #failures = new Map<string, unknown>();
  /** Resolved when the batch now being collected is written (created on demand). */
  #batchDone: { promise: Promise<void>; resolve: () => void } | undefined;

  constructor(options: WriteBatcherOptions<T>) {
    this.#options = options;
    this.flushIntervalMs = options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
    this.maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  }

  add(items: T[]): void {
    for (const item of items) {
      const id = this.#options.idOf(item);
      this.#pending.set(id, (this.#pending.get(id) ?? 0) + 1);
      this.#queue.push(item);
    }
    if (this.#queue.length >= this.maxBatch) this.#cut();
    // a ref'd timer: a short script that records and exits still gets its rows written
    else if (this.#queue.length > 0 && !this.#timer) this.#timer = setTimeout(() => this.#cut(), this.flushIntervalMs);
  }

  /** Writes what is queued now and resolves when every write started so far has finished. */
  async flush(): Promise<void> {
    this.#cut();
    let tail: Promise<void>;
    do {
      tail = this.#tail;
      await tail;
    } while (tail !== this.#tail || this.#queue.length > 0);
  }

  /**
   * Resolves when everything queued so far is written (or has failed for good), without hurrying
   * the batch: what a waitUntil-style background runner waits for.
   */
  settled(): Promise<void> {
    if (this.#queue.length === 0) return this.#tail;
    if (!this.#batchDone) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.#batchDone = { promise, resolve };
    }
    return this.#batchDone.promise;
  }

  /** Resolves to undefined once the item with this id is stored, or to the error that kept it out. */
  whenStored(id: string): Promise<unknown> {
    if (!this.#pending.has(id)) return Promise.resolve(this.#failures.get(id));
    return new Promise((resolve) => {
      const list = this.#waiters.get(id) ?? [];
      list.push(resolve);
      this.#waiters.set(id, list);
    });
  }

  /** Queued or being written. */
  get pendingCount(): number {
    let n = 0;
    for (const count of this.#pending.values()) n += count;
    return n;
  }

  #cut(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.maxBatch);
      const done = this.#queue.length === 0 ? this.#batchDone : undefined;
      if (done) this.#batchDone = undefined;
      this.#tail = this.#tail
        .then(() => this.#write(batch))
        .catch((error: unknown) => diag.error("otel-auth-audit: the store's batch writer failed", error))
        .finally(() => done?.resolve());
    }
  }

  async #write(batch: T[]): Promise<void> {
    const failed = new Map<T, unknown>();
    try {
      await this.#withRetry(() => this.#options.writeBatch(batch));
    } catch (error) {
      if (batch.length === 1) failed.set(batch[0]!, error);
      else {
        diag.warn(`otel-auth-audit: a batch of ${batch.length} audit records could not be stored; writing them one by one`, error);
        for (const item of batch) {
          try {
            await this.#options.writeOne(item);
          } catch (itemError) {
            failed.set(item, itemError);
          }
        }
      }
    }
    for (const item of batch) this.#settle(item, failed.has(item) ? failed.get(item) ?? new Error("write failed") : undefined);
    if (failed.size < batch.length) this.#afterWrite();
  }

  #withRetry(write: () => Promise<void>): Promise<void> {
    return writeWithRetry(write, this.#options.retryBaseDelayMs);
  }

  #settle(item: T, error: unknown): void {
    const id = this.#options.idOf(item);
    if (error !== undefined) {
      reportLost(error, item, (e, i) => this.#options.onFailure(e, i), id);
      this.#failures.set(id, error);
      if (this.#failures.size > FAILURES_KEPT) this.#failures.delete(this.#failures.keys().next().value as string);
    }
    const left = (this.#pending.get(id) ?? 1) - 1;
    if (left > 0) {
      this.#pending.set(id, left);
      return;
    }
    this.#pending.delete(id);
    const waiters = this.#waiters.get(id);
    if (waiters) {
      this.#waiters.delete(id);
      for (const resolve of waiters) resolve(error);
    }
  }

  #afterWrite(): void {
    callReported(this.#options.afterWrite, "afterWrite");
  }
}

/** Runs `write` up to 3 times, 100 ms then 200 ms apart (better-auth-audit-logs' backoff). */
export async function writeWithRetry(write: () => unknown, baseDelayMs = RETRY_BASE_DELAY_MS): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await write();
      return;
    } catch (error) {
      if (attempt >= WRITE_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, baseDelayMs * 2 ** (attempt - 1)));
    }
  }
}

/** A record lost to the store is never silent: `diag`, then the user's callback (whose errors go to `diag`). */
export function reportLost<T>(error: unknown, item: T, callback: ((error: unknown, item: T) => void) | undefined, id = (item as { id?: string }).id): void {
  diag.error(`otel-auth-audit: an audit record (${id}) could not be stored after ${WRITE_ATTEMPTS} attempts`, error);
  try {
    callback?.(error, item);
  } catch (callbackError) {
    diag.error("otel-auth-audit: onWriteError threw", callbackError);
  }
}

export function callReported(callback: (() => void) | undefined, name: string): void {
  try {
    callback?.();
  } catch (error) {
    diag.error(`otel-auth-audit: ${name} threw`, error);
  }
}
