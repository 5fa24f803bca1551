import {
  context,
  diag,
  metrics,
  SeverityNumber,
  type Counter,
  type MeterProvider,
} from "@opentelemetry/api";
import { ExportResultCode, hrTime, suppressTracing, type ExportResult } from "@opentelemetry/core";
import type { LogRecordExporter, LogRecordProcessor, ReadableLogRecord, ReadWriteLogRecord } from "@opentelemetry/sdk-logs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { SpoolFullError, SpoolLockedError } from "../errors.js";
import { newEventId } from "../event.js";
import { SCOPE_NAME, VERSION } from "../version.js";
import { Spool, type FsyncPolicy, type SpoolBatch } from "./spool.js";

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
   * kernel before onEmit returns.
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
  /** Counts since start. */
  totals: { spooled: number; exported: number; retried: number; dropped: number };
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
};

/**
 * Without a configured directory, several live processes of one app in one working directory
 * (cluster workers, parallel test workers) each take the first spool that no live process holds:
 * `spool`, `spool-1`, `spool-2` … A restarted process takes one over and replays what it holds.
 */
function openFirstFree(base: string, open: (dir: string) => Spool): Spool {
  for (let i = 0; ; i++) {
    try {
      return open(i === 0 ? base : `${base}-${i}`);
    } catch (error) {
      if (!(error instanceof SpoolLockedError) || i >= 63) throw error;
    }
  }
}

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

type DropReason = "overflow" | "rejected" | "io" | "unserializable" | "too_large";

interface Instruments {
  provider: MeterProvider;
  spooled: Counter;
  exported: Counter;
  retried: Counter;
  dropped: Counter;
}

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
  #instruments: Instruments | undefined;
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
  readonly #totals = { spooled: 0, exported: 0, retried: 0, dropped: 0 };
  /** Records that entered the spool (recovered + spooled) and that left it (exported or dropped); flush waits on these. */
  #entered: number;
  #settled = 0;
  #flushWaiters: Array<{ target: number; resolve: () => void }> = [];

  constructor(options: DurableLogRecordProcessorOptions) {
    const { exporter, directory, meterProvider, ...rest } = options;
    const defined = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
    this.#o = { ...DEFAULTS, ...defined, meterProvider };
    if (!(this.#o.maxBytes > 0)) throw new RangeError("otel-auth-audit: maxBytes must be positive");
    this.#o.segmentBytes = Math.max(64 * 1024, Math.min(this.#o.segmentBytes, Math.floor(this.#o.maxBytes / 4)));
    this.#exporter = exporter;
    const open = (dir: string) =>
      new Spool({ directory: dir, segmentBytes: this.#o.segmentBytes, fsync: this.#o.fsync, fsyncIntervalMillis: this.#o.fsyncIntervalMillis });
    this.#spool = directory ? open(resolve(directory)) : openDefaultSpool(open);
    this.#entered = this.#spool.records;
    if (this.#spool.recovered.records > 0) {
      diag.info(`otel-auth-audit: ${this.#spool.recovered.records} audit records found in ${this.#spool.directory} from an earlier run; sending them`);
    }
    this.#registerGauges();
    this.#loop = this.#run();
  }

  onEmit(record: ReadWriteLogRecord): void {
    if (this.#closed) {
      diag.error("otel-auth-audit: audit record emitted after shutdown of the durable processor; it is not recorded");
      this.#drop(1, "rejected");
      return;
    }
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
      this.#spool.commit();
    } catch (error) {
      this.#noteError(error);
      diag.error("otel-auth-audit: audit record could not be written to the spool", error);
      this.#drop(1, "io");
      if (this.#o.overflow === "reject") throw error;
      return;
    }
    this.#spooled(1);
  }

  /** Waits until every record emitted before the call is exported (or `timeoutMillis` passes; they stay spooled). */
  async forceFlush(options?: { timeoutMillis?: number }): Promise<void> {
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
      totals: { ...this.#totals },
    };
  }

  async #shutdown(): Promise<void> {
    await this.forceFlush();
    this.#stopping = true;
    this.#wakeUp(true);
    // An export still under way is abandoned: its records stay spooled and are sent after restart.
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([this.#loop, new Promise<void>((done) => (grace = setTimeout(done, 1000)))]);
    clearTimeout(grace);
    this.#closed = true;
    this.#state = "stopped";
    for (const waiter of this.#flushWaiters) waiter.resolve();
    this.#flushWaiters = [];
    try {
      this.#spool.close();
    } catch (error) {
      diag.error("otel-auth-audit: closing the spool failed", error);
    }
    try {
      await this.#exporter.shutdown();
    } catch (error) {
      diag.error("otel-auth-audit: exporter shutdown failed", error);
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
      this.#inflight = undefined;
      if (this.#closed) break;
      const count = batch.records.length;
      if (result.code === ExportResultCode.SUCCESS) {
        if (this.#failures > 0) diag.info(`otel-auth-audit: audit export recovered after ${this.#failures} failed attempts`);
        this.#failures = 0;
        this.#nextRetryAt = undefined;
        this.#lastSuccessAt = new Date();
        this.#spool.ack(batch);
        this.#totals.exported += count;
        this.#instrumentsNow().exported.add(count);
        this.#settle(count);
        continue;
      }
      this.#failures++;
      this.#noteError(result.error);
      this.#totals.retried += count;
      this.#instrumentsNow().retried.add(count);
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
    this.#instrumentsNow().spooled.add(count);
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
    this.#instrumentsNow().dropped.add(count, { reason });
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
      this.#spoolOverflowRecord(lost + carried, freed, trigger);
    }
    if (this.#spool.bytes + bytes > this.#o.maxBytes) {
      diag.error(`otel-auth-audit: the audit spool has no segment left to drop for a record of ${bytes} bytes (max ${this.#o.maxBytes} bytes); the record is dropped`);
      this.#drop(1, "too_large");
      return false;
    }
    return true;
  }

  #spoolOverflowRecord(records: number, bytes: number, trigger: ReadableLogRecord): void {
    const now = hrTime();
    const record: ReadableLogRecord = {
      hrTime: now,
      hrTimeObserved: now,
      resource: trigger.resource,
      instrumentationScope: OVERFLOW_SCOPE,
      eventName: "audit.spool.overflow",
      severityNumber: SeverityNumber.ERROR,
      severityText: "ERROR",
      body: `audit spool full: ${records} oldest unsent audit records were dropped`,
      attributes: {
        "audit.action": "audit:spool-overflow",
        "audit.outcome": "failure",
        "audit.severity": "critical",
        "audit.id": newEventId(),
        "audit.spool.dropped_records": records,
        "audit.spool.dropped_bytes": bytes,
        "audit.spool.max_bytes": this.#o.maxBytes,
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

  /** Instruments from the configured or current global MeterProvider (a global set after construction is picked up). */
  #instrumentsNow(): Instruments {
    const provider = this.#o.meterProvider ?? metrics.getMeterProvider();
    if (this.#instruments?.provider === provider) return this.#instruments;
    const meter = provider.getMeter(SCOPE_NAME, VERSION);
    this.#instruments = {
      provider,
      spooled: meter.createCounter("audit.spool.records.spooled", { unit: "{record}", description: "Audit records written to the spool" }),
      exported: meter.createCounter("audit.spool.records.exported", { unit: "{record}", description: "Audit records the exporter accepted" }),
      retried: meter.createCounter("audit.spool.records.retried", { unit: "{record}", description: "Audit records in failed exports, kept for a retry" }),
      dropped: meter.createCounter("audit.spool.records.dropped", { unit: "{record}", description: "Audit records lost, by reason (overflow, rejected, io, unserializable, too_large)" }),
    };
    this.#registerGauges();
    return this.#instruments;
  }

  #gaugesOn: MeterProvider | undefined;

  #registerGauges(): void {
    const provider = this.#o.meterProvider ?? metrics.getMeterProvider();
    if (this.#gaugesOn === provider) return;
    this.#gaugesOn = provider;
    const meter = provider.getMeter(SCOPE_NAME, VERSION);
    const size = meter.createObservableGauge("audit.spool.size", { unit: "By", description: "Bytes of audit spool files on disk" });
    const pending = meter.createObservableGauge("audit.spool.records", { unit: "{record}", description: "Audit records spooled, not yet exported" });
    const age = meter.createObservableGauge("audit.spool.oldest_age", { unit: "s", description: "Age of the oldest audit record not yet exported" });
    meter.addBatchObservableCallback(
      (result) => {
        if (this.#closed) return;
        const oldest = this.#oldestObservedMs();
        result.observe(size, this.#spool.bytes);
        result.observe(pending, this.#spool.records);
        result.observe(age, oldest === undefined ? 0 : Math.max(0, Date.now() - oldest) / 1000);
      },
      [size, pending, age],
    );
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
