import { diag, logs, ROOT_CONTEXT, SeverityNumber, type Logger, type LoggerProvider } from "@opentelemetry/api";
import {
  BatchLogRecordProcessor,
  InMemoryLogRecordExporter,
  SimpleLogRecordProcessor,
  type LogRecordProcessor,
  type ReadWriteLogRecord,
} from "@opentelemetry/sdk-logs";
import type { KeyObject } from "node:crypto";
import { uuidv7 } from "../uuid.js";
import { canonicalFromSdk } from "../chain/canonical.js";
import { CHAIN_ATTR, CHECKPOINT_ATTR, CHECKPOINT_EVENT, GENESIS_PREV, type HashAlg } from "../chain/format.js";
import { privateKey, recordHasher, secretKey, signCheckpoint, type AsymmetricKeyInput, type SecretInput } from "../chain/keys.js";
import { MerkleTree } from "../chain/merkle.js";
import { SCOPE_NAME, VERSION } from "../version.js";
import { scopeFilter, type ScopeSelection } from "./scope.js";
import { writeAttribute } from "./record.js";
import { atEndOfTurn, MAX_PENDING_RECORDS, settleTurn } from "../end-of-turn.js";
import { AuditOptionsError } from "../errors.js";
import { parseOptions } from "../options.js";
import { integrityOptionsSchema } from "../option-schemas.js";
import { pipelineOf, type Pipeline } from "./sdk-pipeline.js";
import { encodeUnwireable } from "../wire-values.js";
import { DurableLogRecordProcessor } from "../durable/processor.js";

export interface IntegrityProcessorOptions {
  /** HMAC key for record hashes; default env `OTEL_AUTH_AUDIT_KEY`. Without one, records are hashed (SHA-256) but not keyed. */
  key?: SecretInput;
  /** Ed25519 private key (PEM or KeyObject) that signs checkpoints; default env `OTEL_AUTH_AUDIT_SIGNING_KEY` (PEM text). */
  signingKey?: AsymmetricKeyInput;
  /** A checkpoint after this many records. Default 1000; 0 turns it off. */
  checkpointEvery?: number;
  /** A checkpoint every this many milliseconds, even when idle (unref'd timer). Default 60 000; 0 turns it off. */
  checkpointIntervalMs?: number;
  /** Where checkpoint records are emitted; the same as calling `bind(provider)`. Default: the global provider. */
  loggerProvider?: LoggerProvider;
  /** Instrumentation scopes to chain. Default `["otel-auth-audit"]`. */
  scopes?: ScopeSelection;
  /** Chain id; default a fresh UUIDv7 (sortable by the time the chain began). */
  chainId?: string;
}

let warnedUnkeyed = false;

/**
 * Puts every audit record into a per-process hash chain (`audit.chain.id/seq/prev/hash`) and emits
 * signed checkpoint records (Merkle root of the chain so far) every N records and every T ms.
 * Place it after the RedactionProcessor and before any exporting processor:
 * `new LoggerProvider({ processors: [redaction, integrity, new BatchLogRecordProcessor({ exporter })] })`,
 * then `integrity.bind(provider)` so checkpoints go through the same pipeline.
 */
export class IntegrityProcessor implements LogRecordProcessor {
  readonly hashAlg: HashAlg;
  #hash: (canonical: string) => string;
  #signingKey: KeyObject | undefined;
  #inScope: (name: string) => boolean;
  #every: number;
  #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #provider: LoggerProvider | undefined;
  #logger: Logger | undefined;

  #chainId = "";
  #seq = 0;
  #head = GENESIS_PREV;
  #tree = new MerkleTree();
  #lastCheckpointSeq = 0;
  #lastSignature = "";
  #closed = false;
  #shutdown = false;

  /** Set while our own checkpoint record is on its way through the processors (emit is synchronous). */
  #emitting: { reason: string; final: boolean } | undefined;
  #countCheckpointPending = false;
  #warnedUnbound = false;

  constructor(options: IntegrityProcessorOptions = {}) {
    parseOptions("IntegrityProcessor", integrityOptionsSchema, options);
    const rawKey = options.key ?? process.env.OTEL_AUTH_AUDIT_KEY;
    // a key of blanks is a mistake (an unquoted variable, a template left empty), never a secret
    if (typeof rawKey === "string" && rawKey !== "" && rawKey.trim() === "") {
      const option = options.key !== undefined ? "key" : "OTEL_AUTH_AUDIT_KEY";
      throw new AuditOptionsError(`otel-auth-audit: IntegrityProcessor: option \`${option}\` is only whitespace; give a secret (e.g. openssl rand -hex 32)`, option, "IntegrityProcessor");
    }
    const key = secretKey(rawKey);
    const hasher = recordHasher(key);
    this.hashAlg = hasher.alg;
    this.#hash = hasher.hash;
    const signing = options.signingKey ?? process.env.OTEL_AUTH_AUDIT_SIGNING_KEY;
    this.#signingKey = signing ? signingKeyOf(signing, options.signingKey === undefined ? "OTEL_AUTH_AUDIT_SIGNING_KEY" : "signingKey") : undefined;
    this.#inScope = scopeFilter(options.scopes);
    this.#every = options.checkpointEvery ?? 1000;
    this.#intervalMs = options.checkpointIntervalMs ?? 60_000;
    this.#chainId = options.chainId ?? uuidv7();
    if (!key && !warnedUnkeyed) {
      warnedUnkeyed = true;
      const message =
        "otel-auth-audit: IntegrityProcessor has no key (option `key` or OTEL_AUTH_AUDIT_KEY): records are hashed with plain SHA-256, " +
        "so anyone who can edit the log can also recompute the chain. Set a secret key to make the chain tamper-evident.";
      diag.warn(message);
      console.warn(message);
    }
    if (options.loggerProvider) this.bind(options.loggerProvider);
    if (this.#intervalMs > 0) {
      this.#timer = setInterval(() => this.checkpoint("interval"), this.#intervalMs);
      this.#timer.unref();
    }
  }

  /** The chain records are currently appended to. */
  get chainId(): string {
    return this.#chainId;
  }

  /** Seq of the last chained record (0 before the first). */
  get seq(): number {
    this.#seal();
    return this.#seq;
  }

  /** Hash of the last chained record. */
  get head(): string {
    this.#seal();
    return this.#head;
  }

  /** Emits checkpoints through this provider's logger; it must be the provider this processor sits in. */
  bind(provider: LoggerProvider): this {
    this.#provider = provider;
    this.#logger = undefined;
    return this;
  }

  onEmit(record: ReadWriteLogRecord): void {
    const checkpoint = this.#emitting;
    if (!checkpoint && !this.#inScope(record.instrumentationScope.name)) return;
    this.#pipeline ??= pipelineOf(this, [this.#provider, logs.getLoggerProvider()], this.#siblings, record);
    this.#sealTime ??= sealTime(this.#pipeline);
    if (checkpoint) {
      this.#emitting = undefined;
      this.#seal(); // the records before the checkpoint are in the tree it signs
      this.#link(record, checkpoint);
      return;
    }
    try {
      // while the record is still writable (setBody is refused once emit returns)
      encodeUnwireable(record as unknown as Parameters<typeof encodeUnwireable>[0]);
    } catch (error) {
      diag.error("otel-auth-audit: IntegrityProcessor failed on a record", error);
    }
    if (this.#sealTime === "now") {
      this.#link(record, undefined);
      return;
    }
    // hashing waits: every processor after this one reads records later
    if (this.#pending.length === 0) atEndOfTurn("chain", this.#sealTask, this.#sealTime === "soon");
    this.#pending.push(record);
    if (this.#pending.length >= MAX_PENDING_RECORDS) {
      // a long synchronous loop: chain (and spool) what waits now, inside this onEmit
      this.#inEmit = true;
      try {
        settleTurn();
      } finally {
        this.#inEmit = false;
      }
    }
  }

  /** Records emitted in this task, waiting for their place in the chain. */
  #pending: ReadWriteLogRecord[] = [];
  #sealTask = () => this.#seal();
  /** When the chain is computed; decided at the first record. */
  #sealTime: SealTime | undefined;
  #sealing = false;
  /** Set while onEmit settles a full queue: a checkpoint must not be emitted inside another record's onEmit. */
  #inEmit = false;

  /** Chains the records emitted so far, in emit order. */
  #seal(): void {
    if (this.#pending.length === 0) return;
    const pending = this.#pending;
    this.#pending = [];
    this.#sealing = true;
    try {
      for (let i = 0; i < pending.length; i++) this.#link(pending[i], undefined);
    } finally {
      this.#sealing = false;
    }
  }

  /** Appends one record to the chain: id, seq, prev and its hash, written into the record. */
  #link(record: ReadWriteLogRecord, checkpoint: { reason: string; final: boolean } | undefined): void {
    try {
      if (this.#closed && !checkpoint) this.#newChain();
      const seq = ++this.#seq;
      if (checkpoint) this.#fillCheckpoint(record, seq, checkpoint.reason, checkpoint.final);
      writeAttribute(record, CHAIN_ATTR.id, this.#chainId);
      writeAttribute(record, CHAIN_ATTR.seq, seq);
      writeAttribute(record, CHAIN_ATTR.prev, this.#head);
      const hash = this.#hash(canonicalFromSdk(record, CHAIN_ATTR.hash));
      writeAttribute(record, CHAIN_ATTR.hash, hash);
      this.#head = hash;
      this.#tree.appendHex(hash);
      if (this.#every > 0 && !checkpoint && seq - this.#lastCheckpointSeq >= this.#every && !this.#countCheckpointPending) {
        // outside onEmit (a deferred seal), the checkpoint follows this record at once
        if (this.#sealing && !this.#inEmit) {
          this.checkpoint("count");
          return;
        }
        this.#countCheckpointPending = true;
        // after this record has reached the exporters, not in the middle of its onEmit
        queueMicrotask(() => {
          this.#countCheckpointPending = false;
          if (this.#seq - this.#lastCheckpointSeq >= this.#every) this.checkpoint("count");
        });
      }
    } catch (error) {
      diag.error("otel-auth-audit: IntegrityProcessor failed on a record", error);
    }
  }

  /**
   * Emits a checkpoint record now. Returns false when it could not go through this processor
   * (no provider bound, or the bound provider does not contain this processor).
   */
  checkpoint(reason = "manual", final = false): boolean {
    if (this.#shutdown) return false;
    this.#seal();
    const logger = this.#checkpointLogger();
    this.#emitting = { reason, final };
    try {
      logger.emit({
        eventName: CHECKPOINT_EVENT,
        severityNumber: SeverityNumber.INFO,
        severityText: "INFO",
        attributes: { [CHECKPOINT_ATTR.reason]: reason },
      });
    } catch (error) {
      diag.error("otel-auth-audit: emitting a checkpoint failed", error);
    }
    if (this.#emitting) {
      this.#emitting = undefined;
      // not bound to the provider it sits in (auditProcessors() in an unregistered provider): hand
      // the checkpoint to the processors after this one, as shutdown() does
      if (this.#pipeline && this.#emitDirect(reason, final)) return true;
      if (!this.#warnedUnbound) {
        this.#warnedUnbound = true;
        diag.warn(
          "otel-auth-audit: an IntegrityProcessor checkpoint did not pass through the processor; call integrity.bind(provider) " +
            "with the LoggerProvider that holds it",
        );
      }
      return false;
    }
    return true;
  }

  /**
   * Closes the chain with a final checkpoint (`audit.checkpoint.final`), so `verify` can tell a
   * complete chain from a truncated one. shutdown() does this by itself; call it to close a chain
   * earlier. A record emitted afterwards starts a new chain.
   */
  close(): boolean {
    if (this.#closed) return true;
    const done = this.checkpoint("close", true);
    if (done) this.#closed = true;
    return done;
  }

  forceFlush(): Promise<void> {
    this.#seal();
    return Promise.resolve();
  }

  /**
   * Closes the chain (a final checkpoint), then stops. The SDK stops logging before it shuts the
   * processors down, and shuts them down in order: the closing checkpoint is built here and handed
   * straight to the processors after this one, whose own shutdown has not begun yet.
   */
  shutdown(): Promise<void> {
    if (this.#shutdown) return Promise.resolve();
    if (this.#timer) clearInterval(this.#timer);
    this.#seal();
    if (!this.#closed && this.#seq > 0) this.#closeAtShutdown();
    this.#shutdown = true;
    return Promise.resolve();
  }

  /** The pipeline this processor sits in, learned at the first record. */
  #pipeline: Pipeline | undefined;
  #siblings: readonly LogRecordProcessor[] | undefined;

  /**
   * @internal auditProcessors() tells the processor the list it is part of, so that shutdown()
   * finds the processors after it even in a provider it was not bound to.
   */
  inList(processors: readonly LogRecordProcessor[]): this {
    this.#siblings = processors;
    return this;
  }

  #closeAtShutdown(): void {
    if (!this.#pipeline) {
      // not inside a recognisable SDK provider: try the ordinary path (works before its shutdown)
      if (!this.close()) diag.warn(`otel-auth-audit: IntegrityProcessor could not close chain ${this.#chainId} at shutdown; verify will report it open`);
      return;
    }
    if (this.#emitDirect("close", true)) this.#closed = true;
  }

  /** Builds a checkpoint record and hands it to the processors after this one (no logger involved). */
  #emitDirect(reason: string, final: boolean): boolean {
    const pipeline = this.#pipeline;
    if (!pipeline) return false;
    try {
      const record = pipeline.newRecord({
        eventName: CHECKPOINT_EVENT,
        severityNumber: SeverityNumber.INFO,
        severityText: "INFO",
        attributes: { [CHECKPOINT_ATTR.reason]: reason },
        context: ROOT_CONTEXT,
      });
      this.#emitting = { reason, final };
      this.onEmit(record);
      for (const next of pipeline.after) {
        try {
          next.onEmit(record, ROOT_CONTEXT);
        } catch (error) {
          diag.error("otel-auth-audit: a processor failed on a checkpoint", error);
        }
      }
      (record as { _makeReadonly?: () => void })._makeReadonly?.();
      return true;
    } catch (error) {
      this.#emitting = undefined;
      diag.error(`otel-auth-audit: IntegrityProcessor could not emit a checkpoint of chain ${this.#chainId}`, error);
      return false;
    }
  }

  #checkpointLogger(): Logger {
    this.#logger ??= (this.#provider ?? logs.getLoggerProvider()).getLogger(SCOPE_NAME, VERSION);
    return this.#logger;
  }

  #fillCheckpoint(record: ReadWriteLogRecord, seq: number, reason: string, final: boolean): void {
    const statement = {
      chain: this.#chainId,
      size: seq - 1,
      head: this.#head,
      root: this.#tree.root(),
      hashAlg: this.hashAlg,
      prevSignature: this.#lastSignature,
    };
    record.setAttributes({
      [CHECKPOINT_ATTR.reason]: reason,
      [CHECKPOINT_ATTR.size]: statement.size,
      [CHECKPOINT_ATTR.head]: statement.head,
      [CHECKPOINT_ATTR.root]: statement.root,
      [CHECKPOINT_ATTR.hashAlg]: statement.hashAlg,
      [CHECKPOINT_ATTR.prevSignature]: statement.prevSignature,
    });
    if (final) record.setAttribute(CHECKPOINT_ATTR.final, true);
    if (this.#signingKey) {
      const signature = signCheckpoint(statement, this.#signingKey);
      record.setAttribute(CHECKPOINT_ATTR.signature, signature);
      this.#lastSignature = signature;
    }
    this.#lastCheckpointSeq = seq;
  }

  #newChain(): void {
    this.#chainId = uuidv7();
    this.#seq = 0;
    this.#head = GENESIS_PREV;
    this.#tree = new MerkleTree();
    this.#lastCheckpointSeq = 0;
    this.#lastSignature = "";
    this.#closed = false;
  }
}

/**
 * When the chain may be computed, from what the processors after it do with a record:
 * - `"turn"`: only durable spools follow, which write at the next turn of the event loop too;
 * - `"soon"`: the SDK's Batch processor (exports after a microtask) or a Simple processor with the
 *   in-memory exporter (keeps the record itself) follow: at the end of the emitting task;
 * - `"now"`: anything else (a Simple processor with a network or console exporter serialises inside
 *   onEmit), or a provider whose processor list is not known: inside onEmit.
 */
type SealTime = "turn" | "soon" | "now";

function sealTime(pipeline: Pipeline | undefined): SealTime {
  if (!pipeline?.complete) return "now";
  if (pipeline.after.every((p) => p instanceof DurableLogRecordProcessor)) return "turn";
  const readsLater = (p: LogRecordProcessor) =>
    p instanceof DurableLogRecordProcessor ||
    p instanceof BatchLogRecordProcessor ||
    (p instanceof SimpleLogRecordProcessor && (p as unknown as { _exporter?: unknown })._exporter instanceof InMemoryLogRecordExporter);
  return pipeline.after.every(readsLater) ? "soon" : "now";
}

/** The Ed25519 private key that signs checkpoints; anything else (unreadable, another type) is refused naming where it came from. */
function signingKeyOf(input: NonNullable<IntegrityProcessorOptions["signingKey"]>, option: string): KeyObject {
  let key: KeyObject;
  try {
    key = privateKey(input);
  } catch {
    // the key material never goes into the message
    throw new AuditOptionsError(`otel-auth-audit: IntegrityProcessor: option \`${option}\` is not a readable private key (PEM, DER or KeyObject)`, option, "IntegrityProcessor");
  }
  if (key.asymmetricKeyType !== "ed25519") {
    throw new AuditOptionsError(`otel-auth-audit: IntegrityProcessor: option \`${option}\` must be an Ed25519 private key, got ${key.asymmetricKeyType}`, option, "IntegrityProcessor");
  }
  return key;
}
