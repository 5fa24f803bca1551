import { context, diag, SeverityNumber, type MeterProvider } from "@opentelemetry/api";
import { ExportResultCode, hrTime, suppressTracing, type ExportResult } from "@opentelemetry/core";
import type { LogRecordExporter, LogRecordProcessor, ReadableLogRecord, ReadWriteLogRecord } from "@opentelemetry/sdk-logs";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as z from "zod";
import { SpoolFullError, SpoolLockedError } from "../errors.js";
import { newEventId } from "../event.js";
import { optionSchemas, parseOptions } from "../options.js";
import { SCOPE_NAME, VERSION } from "../version.js";
import { DeadLetters } from "./dead-letter.js";
import { isLocked } from "./lock.js";
import { SpoolMetrics, type DropReason } from "./metrics.js";
import { hasSegments, Spool, type FsyncPolicy, type SpoolBatch } from "./spool.js";
import { atEndOfTurn, MAX_PENDING_RECORDS, settleTurn } from "../end-of-turn.js";

export type { FsyncPolicy } from "./spool.js";

/**
 * What happens when the spool reaches `maxBytes`:
 * - `drop-oldest`: the oldest segment of unsent records is deleted, and a critical
 *   `audit.spool.overflow` record saying how many were lost takes its place in the spool.
 * - `reject`: onEmit throws SpoolFullError, so the audited call fails (fail closed) and nothing
 *   already spooled is lost. onEmit is synchronous: it cannot wait for the network to free space.
 */
export type OverflowPolicy = "drop-oldest" | "reject";

export interface DurableLogRecordProcessorOptions {
  /** Where records go: any LogRecordExporter (OTLP http/proto/grpc, in-memory, a store). */
  exporter: LogRecordExporter;
  /** Spool directory, one per process. Default: `OTEL_AUTH_AUDIT_SPOOL_DIR`, else `.otel-auth-audit/spool` under the cwd. */
  directory?: string;
  /** Disk the spool may use, in bytes. Default 256 MiB. */
  maxBytes?: number;
  /** Size of one segment file; the unit in which `drop-oldest` frees space. Default 16 MiB, at most maxBytes / 4. */
  segmentBytes?: number;
  /**
   * When spooled bytes are forced to disk. `always`: fdatasync before onEmit returns (survives power
   * loss; about 1 ms per record on an ordinary SSD). `interval` (default): every `fsyncIntervalMillis`.
   * `never`: left to the OS. Every policy survives a crash of the process itself: records are in the
   * kernel before the emit's promise resolves (`interval`/`never` write a turn's records together).
   */
  fsync?: FsyncPolicy;
  /** Default 1000. */
  fsyncIntervalMillis?: number;
  /** Default `drop-oldest`. */
  overflow?: OverflowPolicy;
  /** Records per export. Default 512. */
  batchSize?: number;
  /** How long a batch may wait to fill up before it is sent anyway. Default 200 ms. */
  scheduledDelayMillis?: number;
  /** An export that has not called back by then counts as failed (and is retried). Default 30 000. */
  exportTimeoutMillis?: number;
  /** First retry delay; doubles per failure, with jitter. Default 500. */
  retryInitialDelayMillis?: number;
  /** Cap of the retry delay. There is no give-up. Default 30 000. */
  retryMaxDelayMillis?: number;
  /** forceFlush() gives up waiting after this long (records stay spooled). Default 10 000. */
  flushTimeoutMillis?: number;
  /**
   * shutdown() returns within about this long, whatever the exporter does; what is still spooled
   * then is kept on disk, sent after the next start, and named in a process warning (path and
   * count). Default 5 000.
   */
  shutdownTimeoutMillis?: number;
  /** For the self-observability metrics. Default: the global MeterProvider. */
  meterProvider?: MeterProvider;
}

export interface DurableHealth {
  directory: string;
  /** Records spooled and not yet exported. */
  spooledRecords: number;
  /** Bytes of spool files on disk. */
  spoolBytes: number;
  maxBytes: number;
  /** Age of the oldest record not yet exported (by its observed time), or undefined when none. */
  oldestAgeMs: number | undefined;
  /** An export is under way. */
  exporting: boolean;
  state: "idle" | "exporting" | "backoff" | "stopped";
  /** Failed exports since the last success. */
  consecutiveFailures: number;
  lastError: string | undefined;
  lastErrorAt: Date | undefined;
  lastSuccessAt: Date | undefined;
  nextRetryAt: Date | undefined;
  /** Found in the spool at start, from an earlier run. */
  recoveredRecords: number;
  /** Damaged frames skipped (at start and since), each costing that frame alone. */
  damagedFrames: number;
  /** Segment files of another format version (or unreadable), left untouched in the directory. */
  unreadableSegments: string[];
  /** Where records the receiver permanently refused are kept (OTLP JSON lines). */
  deadLetterFile: string;
  /** Other spool directories of this app holding unsent records that no live process owns. */
  strandedSpools: string[];
  /** Counts since start. */
  totals: { spooled: number; exported: number; retried: number; dropped: number; deadLettered: number };
}

const DEFAULTS = {
  maxBytes: 256 * 1024 * 1024,
  segmentBytes: 16 * 1024 * 1024,
  fsync: "interval" as FsyncPolicy,
  fsyncIntervalMillis: 1000,
  overflow: "drop-oldest" as OverflowPolicy,
  batchSize: 512,
  scheduledDelayMillis: 200,
  exportTimeoutMillis: 30_000,
  retryInitialDelayMillis: 500,
  retryMaxDelayMillis: 30_000,
  flushTimeoutMillis: 10_000,
  shutdownTimeoutMillis: 5_000,
};

const { positiveInt, nonNegativeInt } = optionSchemas;
const optionsSchema = z.strictObject({
  exporter: optionSchemas.withMethods<LogRecordExporter>("export", "shutdown"),
  directory: z.string().min(1).optional(),
  maxBytes: positiveInt().optional(),
  segmentBytes: positiveInt().optional(),
  fsync: z.enum(["always", "interval", "never"]).optional(),
  fsyncIntervalMillis: positiveInt().optional(),
  overflow: z.enum(["drop-oldest", "reject"]).optional(),
  batchSize: positiveInt().optional(),
  scheduledDelayMillis: nonNegativeInt().optional(),
  exportTimeoutMillis: positiveInt().optional(),
  retryInitialDelayMillis: positiveInt().optional(),
  retryMaxDelayMillis: positiveInt().optional(),
  flushTimeoutMillis: nonNegativeInt().optional(),
  shutdownTimeoutMillis: nonNegativeInt().optional(),
  meterProvider: optionSchemas.withMethods<MeterProvider>("getMeter").optional(),
});

/**
 * Without a configured directory, several live processes of one app in one working directory
 * (cluster workers, parallel test workers) each take a spool that no live process holds: first
 * one left with unsent records by a process that is gone (so stranded records are sent), else
 * the first free of `spool`, `spool-1`, `spool-2` …
 */
function openFirstFree(base: string, open: (dir: string) => Spool): Spool {
  for (const dir of spoolNames(base)) {
    if (!existsSync(dir) || !hasSegments(dir) || isLocked(dir)) continue;
    try {
      return open(dir);
    } catch (error) {
      if (!(error instanceof SpoolLockedError)) throw error;
    }
  }
  for (const dir of spoolNames(base)) {
    try {
      return open(dir);
    } catch (error) {
      if (!(error instanceof SpoolLockedError) || dir === `${base}-63`) throw error;
    }
  }
  throw new SpoolLockedError(base, 0);
}

const spoolNames = (base: string): string[] => Array.from({ length: 64 }, (_, i) => (i === 0 ? base : `${base}-${i}`));

/**
 * The default spool. A working directory the process cannot write (serverless functions: a
 * read-only /var/task) falls back to the OS temp directory, with a warning; an explicitly
 * configured directory never falls back.
 */
function openDefaultSpool(open: (dir: string) => Spool): Spool {
  const preferred = defaultSpoolDirectory();
  try {
    return openFirstFree(preferred, open);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "";
    if (process.env.OTEL_AUTH_AUDIT_SPOOL_DIR || !["EACCES", "EPERM", "EROFS"].includes(code)) throw error;
    const fallback = join(tmpdir(), `otel-auth-audit-${process.getuid?.() ?? "user"}`, "spool");
    diag.warn(`otel-auth-audit: cannot write the audit spool at ${preferred} (${code}); using ${fallback} (set OTEL_AUTH_AUDIT_SPOOL_DIR to choose)`);
    return openFirstFree(fallback, open);
  }
}

/** The default spool directory: `OTEL_AUTH_AUDIT_SPOOL_DIR`, else `.otel-auth-audit/spool` under the cwd. */
export function defaultSpoolDirectory(): string {
  return resolve(process.env.OTEL_AUTH_AUDIT_SPOOL_DIR || ".otel-auth-audit/spool");
}

/** Other spools of this app (`spool`, `spool-1` …) with records and no live owner. */
function strandedSpools(base: string, mine: string): string[] {
  return spoolNames(base).filter((dir) => dir !== mine && existsSync(dir) && hasSegments(dir) && !isLocked(dir));
}

/**
 * HTTP statuses that refuse the records themselves (400 a bad value, 413 too large, 422
 * unprocessable): the batch is split to find them. Every other status is about the request or the
 * receiver, never one record — 401/403/404/405/407/415 configuration, 408/429 try later, 5xx — and
 * is retried: dead-lettering the whole trail for a wrong URL or content type would be a loss.
 */
const RECORD_REFUSALS = new Set([400, 413, 422]);
/** gRPC INVALID_ARGUMENT: the OTLP/gRPC answer to data it cannot take, never retryable (the OTLP spec). */
const GRPC_INVALID_ARGUMENT = 3;
const GRPC_RESOURCE_EXHAUSTED = 8;
function isPermanentRejection(error: unknown): boolean {
  const status = statusOf(error);
  if (status === undefined) return false;
  // a gRPC ServiceError carries its status code in `code` too, next to `details` and `metadata`
  if (isGrpcError(error)) {
    // RESOURCE_EXHAUSTED is "try later" (a memory limiter) except for a message over the size limit: gRPC's 413
    return status === GRPC_INVALID_ARGUMENT || (status === GRPC_RESOURCE_EXHAUSTED && /larger than max/i.test(String((error as { details?: unknown }).details)));
  }
  return RECORD_REFUSALS.has(status);
}

const isGrpcError = (error: unknown): boolean => typeof error === "object" && error !== null && "details" in error && "metadata" in error;

function statusOf(error: unknown): number | undefined {
  if (!error || typeof error !== "object") return undefined;
  const e = error as Record<string, unknown>;
  for (const key of ["code", "statusCode", "status"]) if (typeof e[key] === "number") return e[key] as number;
  return undefined;
}

const isNoSpace = (error: unknown) => ["ENOSPC", "EDQUOT"].includes((error as NodeJS.ErrnoException)?.code ?? "");

const DEAD_LETTER_EVENT = "audit.spool.dead_letter";

const OVERFLOW_SCOPE = { name: SCOPE_NAME, version: VERSION };

/**
 * A LogRecordProcessor that never loses a record silently: each record is appended to an on-disk
 * spool inside onEmit, then exported in batches by a background loop that retries with backoff
 * until the exporter succeeds, and only then removed. What is left at exit is sent after the next
 * start. At-least-once: stores de-duplicate by `audit.id`.
 *
 * `new LoggerProvider({ processors: [redaction, integrity, new DurableLogRecordProcessor({ exporter: new OTLPLogExporter() })] })`
 */
export class DurableLogRecordProcessor implements LogRecordProcessor {
  readonly #exporter: LogRecordExporter;
  readonly #spool: Spool;
  readonly #o: typeof DEFAULTS & { meterProvider?: MeterProvider };
  readonly #metrics: SpoolMetrics;
  readonly #deadLetters: DeadLetters;
  readonly #stranded: string[];
  /** A run of failed spool writes (disk full …): reported once when it starts and once when it ends. */
  #ioEpisode: { lost: number; since: Date; error: string; noSpace: boolean } | undefined;
  readonly #loop: Promise<void>;
  #stopping = false;
  #closed = false;
  #shutdownPromise: Promise<void> | undefined;
  #inflight: SpoolBatch | undefined;
  #flushing = 0;
  /** Resolves the loop's current wait (for records, a batch to fill, or a backoff). */
  #wake: (() => void) | undefined;
  #wakeWhen = 0;
  #state: DurableHealth["state"] = "idle";
  #failures = 0;
  #lastError: string | undefined;
  #lastErrorAt: Date | undefined;
  #lastSuccessAt: Date | undefined;
  #nextRetryAt: Date | undefined;
  #lastRejectReport = 0;
  readonly #totals = { spooled: 0, exported: 0, retried: 0, dropped: 0, deadLettered: 0 };
  /** Records that entered the spool (recovered + spooled) and that left it (exported or dropped); flush waits on these. */
  #entered: number;
  #settled = 0;
  #flushWaiters: Array<{ target: number; resolve: () => void }> = [];

  constructor(options: DurableLogRecordProcessorOptions) {
    const { exporter, directory, meterProvider, ...rest } = parseOptions("DurableLogRecordProcessor", optionsSchema, options);
    const defined = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
    this.#o = { ...DEFAULTS, ...defined, meterProvider };
    this.#o.segmentBytes = Math.max(64 * 1024, Math.min(this.#o.segmentBytes, Math.floor(this.#o.maxBytes / 4)));
    this.#exporter = exporter;
    const open = (dir: string) =>
      new Spool({ directory: dir, segmentBytes: this.#o.segmentBytes, fsync: this.#o.fsync, fsyncIntervalMillis: this.#o.fsyncIntervalMillis });
    const base = defaultSpoolDirectory();
    this.#spool = directory ? open(resolve(directory)) : openDefaultSpool(open);
    this.#deadLetters = new DeadLetters(this.#spool.directory);
    this.#entered = this.#spool.records;
    const recovered = this.#spool.recovered;
    if (recovered.records > 0) {
      diag.info(`otel-auth-audit: ${recovered.records} audit records found in ${this.#spool.directory} from an earlier run; sending them`);
    }
    this.#stranded = directory ? [] : strandedSpools(base, this.#spool.directory);
    if (this.#stranded.length > 0) {
      warn(
        `otel-auth-audit: spool directories ${this.#stranded.join(", ")} hold unsent audit records and no live process owns them; ` +
          `the next process to start takes the first free one and sends what it holds (or give each process its own directory)`,
        "OTEL_AUTH_AUDIT_STRANDED_SPOOL",
      );
    }
    this.#metrics = new SpoolMetrics(meterProvider, {
      closed: () => this.#closed,
      bytes: () => this.#spool.bytes,
      records: () => this.#spool.records,
      oldestObservedMs: () => this.#oldestObservedMs(),
    });
    if (recovered.damagedFrames > 0) this.#drop(recovered.damagedFrames, "damaged");
    this.#loop = this.#run();
  }

  onEmit(record: ReadWriteLogRecord): void {
    if (this.#closed) {
      diag.error("otel-auth-audit: audit record emitted after shutdown of the durable processor; it is not recorded");
      this.#drop(1, "rejected");
      return;
    }
    if (!this.#writesAtEndOfTurn) {
      this.#append(record);
      return;
    }
    if (this.#pending.length === 0) atEndOfTurn("write", this.#writeTask);
    this.#pending.push(record);
    if (this.#pending.length >= MAX_PENDING_RECORDS) settleTurn();
  }

  /**
   * Records emitted in this task, written together at its end (after the hash chain). `reject`
   * must refuse the emitting call itself and `fsync: "always"` promises the disk before onEmit
   * returns: both write inside onEmit.
   */
  #pending: ReadableLogRecord[] = [];
  #writeTask = () => this.#writePending();
  get #writesAtEndOfTurn(): boolean {
    return this.#o.overflow !== "reject" && this.#o.fsync !== "always";
  }

  #writePending(): void {
    const records = this.#pending;
    this.#pending = [];
    let done = 0;
    if (records.length > 1 && !this.#ioEpisode) {
      // one write for the lot; what does not fit, or fails, goes one by one below
      done = this.#spool.writeGroup(records, (bytes) => this.#spool.bytes + bytes <= this.#o.maxBytes);
      if (done > 0) this.#spooled(done);
    }
    for (let i = done; i < records.length; i++) {
      try {
        this.#append(records[i]);
      } catch (error) {
        diag.error("otel-auth-audit: writing an audit record to the spool failed", error);
      }
    }
  }

  /** Appends one record to the spool under the overflow policy; counts and reports what is lost. */
  #append(record: ReadableLogRecord): void {
    let bytes: number;
    try {
      bytes = this.#spool.stage(record);
    } catch (error) {
      diag.error("otel-auth-audit: audit record could not be serialised for the spool; it is dropped", error);
      this.#drop(1, "unserializable");
      return;
    }
    if (this.#spool.bytes + bytes > this.#o.maxBytes) {
      if (this.#o.overflow === "reject") return this.#reject();
      if (!this.#makeRoom(bytes, record)) return;
      this.#spool.stage(record); // the overflow record took the scratch frame
    }
    try {
      this.#commitWithPolicy(record);
    } catch (error) {
      this.#noteError(error);
      this.#writeFailed(error);
      this.#drop(1, "io");
      if (this.#o.overflow === "reject") {
        this.#ioEpisode!.lost++;
        throw isNoSpace(error) ? new SpoolFullError(this.#spool.directory, this.#o.maxBytes) : error;
      }
      this.#ioEpisode!.lost++;
      return;
    }
    this.#spooled(1);
    if (this.#ioEpisode) this.#endIoEpisode(record);
  }

  /** commit(); on a full disk under drop-oldest, frees the oldest segment and tries once more. */
  #commitWithPolicy(record: ReadableLogRecord): void {
    try {
      this.#spool.commit();
    } catch (error) {
      if (!isNoSpace(error) || this.#o.overflow !== "drop-oldest") throw error;
      const dropped = this.#spool.dropOldest(this.#inflight?.seq);
      if (!dropped) throw error;
      const ordinary = dropped.records - dropped.overflowRecords;
      this.#drop(ordinary, "overflow");
      this.#settle(dropped.records);
      this.#writeFailed(error);
      this.#ioEpisode!.lost += ordinary + dropped.carried;
      this.#spool.stage(record);
      this.#spool.commit();
    }
  }

  /** The first failed write of an episode is reported; the rest are only counted. */
  #writeFailed(error: unknown): void {
    if (this.#ioEpisode) return;
    const noSpace = isNoSpace(error);
    this.#ioEpisode = { lost: 0, since: new Date(), error: error instanceof Error ? error.message : String(error), noSpace };
    diag.error(
      `otel-auth-audit: audit spool ${this.#spool.directory}: ${noSpace ? "the disk is full" : "writing failed"} (${this.#ioEpisode.error}); ` +
        `policy ${this.#o.overflow}: ${this.#o.overflow === "reject" ? "new records are refused" : "the oldest segments are dropped"}; ` +
        "one audit.spool.overflow record will say how many records were lost once writing works again",
    );
  }

  /** Writing works again: one overflow record and one diag line for the whole episode. */
  #endIoEpisode(trigger: ReadableLogRecord): void {
    const episode = this.#ioEpisode!;
    this.#ioEpisode = undefined;
    diag.warn(`otel-auth-audit: audit spool writable again after ${Date.now() - episode.since.getTime()} ms; ${episode.lost} records were lost`);
    if (episode.lost > 0) {
      this.#spoolOverflowRecord(episode.lost, 0, trigger, episode.noSpace ? "disk_full" : "io", `since ${episode.since.toISOString()}: ${episode.error}`);
    }
  }

  /** Waits until every record emitted before the call is exported (or `timeoutMillis` passes; they stay spooled). */
  async forceFlush(options?: { timeoutMillis?: number }): Promise<void> {
    settleTurn(); // the records of this task are chained and written first
    const target = this.#entered;
    if (this.#settled >= target || this.#stopping) return;
    const timeout = options?.timeoutMillis ?? this.#o.flushTimeoutMillis;
    this.#flushing++;
    if (this.#state === "backoff") this.#retryNow = true; // an explicit flush earns one early attempt
    this.#wakeUp(true);
    let timer: NodeJS.Timeout | undefined;
    try {
      const drained = await new Promise<boolean>((done) => {
        this.#flushWaiters.push({ target, resolve: () => done(true) });
        // Ref'd: someone awaits this, so the process should live until it settles.
        timer = setTimeout(() => done(false), timeout);
      });
      if (!drained) {
        diag.warn(`otel-auth-audit: forceFlush timed out after ${timeout} ms with ${this.#spool.records} audit records still spooled; they are kept on disk and sent later`);
      }
    } finally {
      clearTimeout(timer);
      this.#flushing--;
    }
  }

  /** Flushes (bounded by flushTimeoutMillis), stops the export loop, closes the spool and shuts the exporter down. */
  shutdown(): Promise<void> {
    this.#shutdownPromise ??= this.#shutdown();
    return this.#shutdownPromise;
  }

  health(): DurableHealth {
    settleTurn();
    const oldest = this.#closed ? undefined : this.#oldestObservedMs();
    return {
      directory: this.#spool.directory,
      spooledRecords: this.#spool.records,
      spoolBytes: this.#spool.bytes,
      maxBytes: this.#o.maxBytes,
      oldestAgeMs: oldest === undefined ? undefined : Math.max(0, Date.now() - oldest),
      exporting: this.#state === "exporting",
      state: this.#state,
      consecutiveFailures: this.#failures,
      lastError: this.#lastError,
      lastErrorAt: this.#lastErrorAt,
      lastSuccessAt: this.#lastSuccessAt,
      nextRetryAt: this.#nextRetryAt,
      recoveredRecords: this.#spool.recovered.records,
      damagedFrames: this.#spool.recovered.damagedFrames + this.#spool.damagedWhileReading,
      unreadableSegments: [...this.#spool.recovered.unreadableSegments],
      deadLetterFile: this.#deadLetters.path,
      strandedSpools: [...this.#stranded],
      totals: { ...this.#totals },
    };
  }

  async #shutdown(): Promise<void> {
    settleTurn();
    const deadline = Date.now() + this.#o.shutdownTimeoutMillis;
    const left = () => Math.max(0, deadline - Date.now());
    await this.#flushQuietly(Math.min(this.#o.flushTimeoutMillis, left()));
    this.#stopping = true;
    this.#wakeUp(true);
    // An export still under way is abandoned: its records stay spooled and are sent after restart.
    await raceTimeout(this.#loop, Math.min(1000, left()));
    this.#closed = true;
    this.#state = "stopped";
    for (const waiter of this.#flushWaiters) waiter.resolve();
    this.#flushWaiters = [];
    const remaining = this.#spool.records;
    try {
      this.#spool.close();
    } catch (error) {
      diag.error("otel-auth-audit: closing the spool failed", error);
    }
    if (remaining > 0) {
      warn(
        `otel-auth-audit: shutdown left ${remaining} audit records unsent in ${this.#spool.directory}` +
          (this.#lastError ? ` (last export error: ${this.#lastError})` : "") +
          "; they are kept on disk and sent by the next process that starts with this spool",
        "OTEL_AUTH_AUDIT_SPOOL_LEFT",
      );
    }
    try {
      await raceTimeout(this.#exporter.shutdown(), Math.max(100, left()));
    } catch (error) {
      diag.error("otel-auth-audit: exporter shutdown failed", error);
    }
  }

  /** forceFlush for shutdown: its warning is replaced by the one naming what was left. */
  async #flushQuietly(timeoutMillis: number): Promise<void> {
    const target = this.#entered;
    if (this.#settled >= target || timeoutMillis <= 0) return;
    this.#flushing++;
    if (this.#state === "backoff") this.#retryNow = true;
    this.#wakeUp(true);
    try {
      await raceTimeout(new Promise<void>((resolve) => this.#flushWaiters.push({ target, resolve })), timeoutMillis);
    } finally {
      this.#flushing--;
    }
  }

  #retryNow = false;

  async #run(): Promise<void> {
    // Leave the constructor's caller a turn before the first read (the first emits usually follow).
    await Promise.resolve();
    while (!this.#stopping) {
      if (this.#spool.records === 0) {
        this.#state = "idle";
        await this.#waitFor(1);
        continue;
      }
      if (this.#spool.records < this.#o.batchSize && this.#flushing === 0) {
        await this.#waitFor(this.#o.batchSize, this.#o.scheduledDelayMillis);
        if (this.#stopping) break;
      }
      const batch = this.#spool.read(this.#o.batchSize);
      if (!batch) {
        // Counted records but nothing readable: skipped as corrupt. Do not spin.
        await this.#waitFor(this.#spool.records + 1, this.#o.scheduledDelayMillis);
        continue;
      }
      this.#inflight = batch;
      this.#state = "exporting";
      const result = await this.#export(batch.records);
      if (this.#closed) {
        this.#inflight = undefined;
        break;
      }
      const count = batch.records.length;
      if (result.code === ExportResultCode.SUCCESS) {
        this.#inflight = undefined;
        this.#exported(batch, 0, count);
        continue;
      }
      if (isPermanentRejection(result.error)) {
        // a record the receiver refuses must not hold up the ones behind it: find it, set it aside
        const outcome = await this.#isolate(batch, 0, count, result.error);
        this.#inflight = undefined;
        if (outcome.code === ExportResultCode.SUCCESS || this.#closed) continue;
        result.error = outcome.error;
      }
      this.#inflight = undefined;
      this.#failures++;
      this.#noteError(result.error);
      this.#totals.retried += count;
      this.#metrics.now.retried.add(count);
      const retryAfter = retryAfterOf(result.error);
      const delay = retryAfter !== undefined ? Math.min(retryAfter, Math.max(this.#o.retryMaxDelayMillis, 300_000)) : this.#backoff();
      if (this.#failures === 1 || this.#failures % 10 === 0) {
        diag.warn(`otel-auth-audit: audit export failed (${this.#failures}×): ${this.#lastError}; ${this.#spool.records} records stay spooled, retrying in ${Math.round(delay)} ms`);
      }
      this.#spool.rewind();
      this.#state = "backoff";
      this.#nextRetryAt = new Date(Date.now() + delay);
      const until = Date.now() + delay;
      this.#retryNow = false;
      while (!this.#stopping && Date.now() < until) {
        await this.#sleep(until - Date.now());
        // A flush may cut our own backoff short, never a Retry-After the collector asked for.
        if (this.#retryNow && retryAfter === undefined) break;
      }
      this.#retryNow = false;
    }
    this.#state = "stopped";
  }

  #exported(batch: SpoolBatch, from: number, to: number): void {
    const count = to - from;
    if (this.#failures > 0) diag.info(`otel-auth-audit: audit export recovered after ${this.#failures} failed attempts`);
    this.#failures = 0;
    this.#nextRetryAt = undefined;
    this.#lastSuccessAt = new Date();
    this.#spool.ackTo(batch.seq, batch.ends[to - 1], count);
    this.#totals.exported += count;
    this.#metrics.now.exported.add(count);
    this.#settle(count);
  }

  /**
   * Records [from, to) of `batch` were refused as a whole: halves are sent on their own (bisection),
   * so every record the receiver accepts is delivered and each one it refuses alone goes to the
   * dead-letter file. Stops at a failure that is not a refusal (the rest is retried as usual).
   */
  async #isolate(batch: SpoolBatch, from: number, to: number, error: unknown): Promise<ExportResult> {
    if (to - from === 1) return this.#deadLetter(batch, from, error);
    const mid = from + Math.ceil((to - from) / 2);
    for (const [lo, hi] of [[from, mid], [mid, to]]) {
      if (this.#closed || this.#stopping) return { code: ExportResultCode.FAILED, error: new Error("stopped") };
      const result = await this.#export(batch.records.slice(lo, hi));
      if (this.#closed) return result;
      if (result.code === ExportResultCode.SUCCESS) this.#exported(batch, lo, hi);
      else if (isPermanentRejection(result.error)) {
        const inner = await this.#isolate(batch, lo, hi, result.error);
        if (inner.code !== ExportResultCode.SUCCESS) return inner;
      } else return result;
    }
    return { code: ExportResultCode.SUCCESS };
  }

  /** Moves one refused record to the dead-letter file, then reports it with a critical record and a metric. */
  #deadLetter(batch: SpoolBatch, index: number, error: unknown): ExportResult {
    const record = batch.records[index];
    try {
      this.#deadLetters.append([record]);
    } catch (writeError) {
      diag.error(`otel-auth-audit: could not write the dead-letter file ${this.#deadLetters.path}; the refused record stays spooled`, writeError);
      return { code: ExportResultCode.FAILED, error: writeError as Error };
    }
    this.#spool.ackTo(batch.seq, batch.ends[index], 1);
    this.#totals.deadLettered++;
    this.#metrics.now.deadLettered.add(1);
    this.#settle(1);
    const reason = `${statusOf(error) ?? ""} ${error instanceof Error ? error.message : String(error ?? "")}`.trim().slice(0, 300);
    const id = record.attributes["audit.id"];
    diag.error(
      `otel-auth-audit: the receiver refused audit record ${typeof id === "string" ? id : "(no audit.id)"} (${record.eventName ?? "no event name"}): ${reason}; ` +
        `it was moved to ${this.#deadLetters.path} and the records behind it are sent`,
    );
    // a refused report is not reported again: that could go on forever
    if (record.eventName !== DEAD_LETTER_EVENT) this.#spoolDeadLetterRecord(record, reason);
    return { code: ExportResultCode.SUCCESS };
  }

  #spoolDeadLetterRecord(refused: ReadableLogRecord, reason: string): void {
    const now = hrTime();
    const id = refused.attributes["audit.id"];
    const record: ReadableLogRecord = {
      hrTime: now,
      hrTimeObserved: now,
      resource: refused.resource,
      instrumentationScope: OVERFLOW_SCOPE,
      eventName: DEAD_LETTER_EVENT,
      severityNumber: SeverityNumber.ERROR,
      severityText: "ERROR",
      body: `the receiver refused an audit record; it was moved to the dead-letter file ${this.#deadLetters.path}`,
      attributes: {
        "audit.action": "audit:spool-dead-letter",
        "audit.outcome": "failure",
        "audit.severity": "critical",
        "audit.id": newEventId(),
        "audit.spool.dead_letter.record_id": typeof id === "string" ? id : "",
        "audit.spool.dead_letter.event_name": refused.eventName ?? "",
        "audit.spool.dead_letter.reason": reason,
        "audit.spool.dead_letter.file": this.#deadLetters.path,
      },
      droppedAttributesCount: 0,
    };
    try {
      this.#spool.stage(record);
      this.#spool.commit();
      this.#spooled(1);
    } catch (error) {
      diag.error("otel-auth-audit: could not spool the audit.spool.dead_letter record", error);
    }
  }

  /** One export, bounded by exportTimeoutMillis, with the exporter's own network calls untraced. */
  #export(records: ReadableLogRecord[]): Promise<ExportResult> {
    return new Promise<ExportResult>((done) => {
      let finished = false;
      const finish = (result: ExportResult) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        done(result);
      };
      const timer = setTimeout(
        () => finish({ code: ExportResultCode.FAILED, error: new Error(`export timed out after ${this.#o.exportTimeoutMillis} ms`) }),
        this.#o.exportTimeoutMillis,
      );
      timer.unref();
      try {
        context.with(suppressTracing(context.active()), () => this.#exporter.export(records, finish));
      } catch (error) {
        finish({ code: ExportResultCode.FAILED, error: error as Error });
      }
    });
  }

  /** Exponential backoff with equal jitter, capped. */
  #backoff(): number {
    const base = Math.min(this.#o.retryMaxDelayMillis, this.#o.retryInitialDelayMillis * 2 ** Math.min(this.#failures - 1, 30));
    return base / 2 + (Math.random() * base) / 2;
  }

  #waitFor(records: number, timeoutMillis?: number): Promise<void> {
    return new Promise<void>((done) => {
      let timer: NodeJS.Timeout | undefined;
      this.#wakeWhen = records;
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        done();
      };
      if (timeoutMillis !== undefined) {
        timer = setTimeout(() => this.#wake?.(), timeoutMillis);
        timer.unref();
      }
    });
  }

  #sleep(ms: number): Promise<void> {
    return this.#waitFor(Number.POSITIVE_INFINITY, ms);
  }

  #wakeUp(force = false): void {
    if (this.#wake && (force || this.#spool.records >= this.#wakeWhen)) this.#wake();
  }

  #spooled(count: number): void {
    this.#totals.spooled += count;
    this.#entered += count;
    this.#metrics.now.spooled.add(count);
    if (this.#wake && (this.#flushing > 0 || this.#spool.records >= this.#wakeWhen)) this.#wake();
  }

  #settle(count: number): void {
    this.#settled += count;
    if (this.#flushWaiters.length === 0) return;
    this.#flushWaiters = this.#flushWaiters.filter((w) => {
      if (this.#settled < w.target) return true;
      w.resolve();
      return false;
    });
  }

  #drop(count: number, reason: DropReason): void {
    if (count <= 0) return;
    this.#totals.dropped += count;
    this.#metrics.now.dropped.add(count, { reason });
  }

  #reject(): never {
    this.#drop(1, "rejected");
    const now = Date.now();
    if (now - this.#lastRejectReport > 10_000) {
      this.#lastRejectReport = now;
      diag.error(`otel-auth-audit: audit spool full (${this.#spool.bytes} of ${this.#o.maxBytes} bytes, ${this.#spool.records} records waiting); rejecting new records until the exporter catches up`);
    }
    throw new SpoolFullError(this.#spool.directory, this.#o.maxBytes);
  }

  /**
   * drop-oldest: deletes old segments (never the one being exported) until `bytes` fit, then spools
   * a record saying how many records were lost, counting those reported by overflow records that
   * were themselves dropped, so the overflow records that arrive always add up.
   */
  #makeRoom(bytes: number, trigger: ReadableLogRecord): boolean {
    let lost = 0;
    let carried = 0;
    let freed = 0;
    const overflowReserve = 2048;
    while (this.#spool.bytes + bytes + overflowReserve > this.#o.maxBytes) {
      const dropped = this.#spool.dropOldest(this.#inflight?.seq);
      if (!dropped) break;
      const ordinary = dropped.records - dropped.overflowRecords;
      lost += ordinary;
      carried += dropped.carried;
      freed += dropped.bytes;
      this.#drop(ordinary, "overflow");
      this.#settle(dropped.records);
    }
    if (freed > 0) {
      diag.error(`otel-auth-audit: audit spool full (max ${this.#o.maxBytes} bytes): dropped the ${lost} oldest unsent records (${freed} bytes); an audit.spool.overflow record is spooled in their place`);
      this.#spoolOverflowRecord(lost + carried, freed, trigger, "spool_full");
    }
    if (this.#spool.bytes + bytes > this.#o.maxBytes) {
      diag.error(`otel-auth-audit: the audit spool has no segment left to drop for a record of ${bytes} bytes (max ${this.#o.maxBytes} bytes); the record is dropped`);
      this.#drop(1, "too_large");
      return false;
    }
    return true;
  }

  #spoolOverflowRecord(records: number, bytes: number, trigger: ReadableLogRecord, reason: "spool_full" | "disk_full" | "io", detail?: string): void {
    const now = hrTime();
    const record: ReadableLogRecord = {
      hrTime: now,
      hrTimeObserved: now,
      resource: trigger.resource,
      instrumentationScope: OVERFLOW_SCOPE,
      eventName: "audit.spool.overflow",
      severityNumber: SeverityNumber.ERROR,
      severityText: "ERROR",
      body:
        reason === "spool_full"
          ? `audit spool full: ${records} oldest unsent audit records were dropped`
          : `${records} audit records were lost: the spool could not be written (${reason === "disk_full" ? "disk full" : "I/O error"}, ${detail})`,
      attributes: {
        "audit.action": "audit:spool-overflow",
        "audit.outcome": "failure",
        "audit.severity": "critical",
        "audit.id": newEventId(),
        "audit.spool.dropped_records": records,
        "audit.spool.dropped_bytes": bytes,
        "audit.spool.max_bytes": this.#o.maxBytes,
        "audit.spool.reason": reason,
      },
      droppedAttributesCount: 0,
    };
    try {
      this.#spool.stage(record);
      this.#spool.commit(records);
      this.#spooled(1);
    } catch (error) {
      diag.error("otel-auth-audit: could not spool the audit.spool.overflow record", error);
    }
  }

  #oldestObservedMs(): number | undefined {
    const first = this.#inflight?.records[0];
    if (first) return first.hrTimeObserved[0] * 1000 + first.hrTimeObserved[1] / 1e6;
    return this.#spool.oldestObservedMs();
  }

  #noteError(error: unknown): void {
    this.#lastError = error instanceof Error ? error.message || error.name : String(error ?? "export failed");
    this.#lastErrorAt = new Date();
  }
}

/** A Retry-After an exporter put on its error (`retryAfterMillis`, `retryInMillis` or `retryAfterMs`), in ms. */
function retryAfterOf(error: unknown): number | undefined {
  if (!error || typeof error !== "object") return undefined;
  const e = error as Record<string, unknown>;
  for (const key of ["retryAfterMillis", "retryInMillis", "retryAfterMs"]) {
    const value = e[key];
    if (typeof value === "number" && Number.isFinite(value) && value >= 0) return value;
  }
  return undefined;
}

/** A process warning (printed by Node unless silenced) and a diag line: for what an operator must not miss. */
function warn(message: string, code: string): void {
  diag.warn(message);
  process.emitWarning(message, { code });
}

/** Resolves when `promise` settles or after `ms`, whichever comes first (never rejects). */
function raceTimeout(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.then(noop, noop),
    new Promise<void>((done) => {
      timer = setTimeout(done, ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const noop = () => {};
