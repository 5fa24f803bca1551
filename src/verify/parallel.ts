/**
 * `verify` of large OTLP JSON-lines files on every core, in bounded memory.
 *
 * The input is cut into byte ranges; each worker thread reads the whole lines its range owns
 * straight from the file (./range.ts), does the per-record work (canonical form, HMAC, Merkle leaf
 * hash: ./scan.ts, with ./chunk.ts for anything unusual) and answers with runs of linked records.
 * The main thread reads nothing and follows each chain in seq order: a record's hash depends only
 * on its own content and its prev value, so ranges are checked independently and only the links
 * between runs, the Merkle roots (folding the workers' leaf hashes) and the signatures of
 * checkpoints are checked here, with O(log n) state per chain plus a bounded window for records
 * that arrive ahead of their turn.
 *
 * This is a fast path that proves a healthy log: the moment anything is unusual — a wrong hash, a
 * missing or repeated record, a broken link, a bad root or signature, an unchained audit record,
 * input that is not OTLP JSON lines, no key — it answers `undefined` and the caller runs the exact
 * verifier (`verifyRecords`), so every problem is reported by one implementation only.
 */
import { open, stat } from "node:fs/promises";
import { availableParallelism } from "node:os";
import type { KeyObject } from "node:crypto";
import { GENESIS_PREV, type HashAlg } from "../chain/format.js";
import { publicKey as toPublicKey, verifyCheckpoint, type AsymmetricKeyInput } from "../chain/keys.js";
import { MerkleLeafRange } from "../chain/merkle.js";
import { scopeFilter, type ScopeSelection } from "../processors/scope.js";
import { ChunkRecords, type CheckpointSummary, type ChunkResult, type Run } from "./chunk.js";
import { recordHmac, verifyRange, type WorkerSetup } from "./parallel-worker.js";
import { workerPool } from "./pool.js";
import { RangeReader, type ByteRange } from "./range.js";
import { LineScanner } from "./scan.js";
import type { ChainReport, VerifyProblem, VerifyResult } from "./verify.js";

export interface ParallelVerifyOptions {
  /** The chain's HMAC key: required (without it the exact verifier runs). */
  key?: string;
  publicKey?: AsymmetricKeyInput;
  requireClosed?: boolean;
  scopes?: ScopeSelection;
  /** Worker threads; default the machine's available parallelism. 0: no workers (same thread). */
  workers?: number;
  /** Bytes of input per range handed to a worker. Default 1 MiB. */
  chunkBytes?: number;
  /** Records a chain may hold waiting for an earlier seq before the log counts as unusual. Default 100 000. */
  reorderWindow?: number;
  /** Called as input is read: (bytes done, bytes in total). */
  onProgress?: (done: number, total: number) => void;
}

/** Signals "not a healthy, ordered log": the exact verifier decides. */
class Unusual extends Error {}

/** One chain followed in seq order, with O(log n) state. */
class ChainWalker {
  readonly id: string;
  records = 0;
  #expected = 1;
  #prevHash = GENESIS_PREV;
  #tree = new MerkleLeafRange();
  /** Runs that arrived ahead of their turn, by first seq, and how many records they hold. */
  #ahead = new Map<number, { run: Run; leaves: Uint8Array; at: number }>();
  #aheadRecords = 0;
  #lastSignature = "";
  #checkpoints = 0;
  #anchored = 0;
  #finalSeq = 0;
  #lastCheckpointSeq = 0;
  #hashAlg: HashAlg = "hmac-sha256";

  constructor(
    id: string,
    readonly pub: KeyObject | undefined,
    readonly window: number,
  ) {
    this.id = id;
  }

  /** A run whose leaf hashes are `leaves` [at, at + run.count). */
  add(run: Run, leaves: Uint8Array, at: number): void {
    this.records += run.count;
    if (run.seq < this.#expected || this.#ahead.has(run.seq)) throw new Unusual(`chain ${this.id}: record ${run.seq} seen twice or late`);
    if (run.seq > this.#expected) {
      this.#ahead.set(run.seq, { run, leaves, at });
      this.#aheadRecords += run.count;
      if (this.#aheadRecords > this.window) throw new Unusual(`chain ${this.id}: records ${this.#expected}… missing`);
      return;
    }
    this.#take(run, leaves, at);
    for (let next = this.#ahead.get(this.#expected); next; next = this.#ahead.get(this.#expected)) {
      this.#ahead.delete(this.#expected);
      this.#aheadRecords -= next.run.count;
      this.#take(next.run, next.leaves, next.at);
    }
  }

  #take(run: Run, leaves: Uint8Array, at: number): void {
    if (this.#finalSeq) throw new Unusual(`chain ${this.id}: a record after the final checkpoint`);
    if (run.prev !== this.#prevHash) throw new Unusual(`chain ${this.id}: record ${run.seq} does not link`);
    // within a run the worker checked each link; a checkpoint is checked against the tree before it
    let done = 0;
    for (const [offset, cp, prev] of run.checkpoints) {
      if (this.#finalSeq) throw new Unusual(`chain ${this.id}: a record after the final checkpoint`);
      this.#tree.append(leaves, at + done, at + offset);
      done = offset;
      this.#checkpoint(run.seq + offset, cp, prev);
    }
    if (this.#finalSeq && this.#finalSeq !== run.seq + run.count - 1) throw new Unusual(`chain ${this.id}: a record after the final checkpoint`);
    this.#tree.append(leaves, at + done, at + run.count);
    this.#prevHash = run.last;
    this.#expected = run.seq + run.count;
  }

  /** The checkpoint record `seq`, whose prev (the hash of record seq - 1) is `prev`. */
  #checkpoint(seq: number, cp: CheckpointSummary, prev: string): void {
    const size = seq - 1;
    if (cp.hashAlg !== undefined && cp.hashAlg !== "hmac-sha256") throw new Unusual(`chain ${this.id}: hashed as ${cp.hashAlg}`);
    if (cp.size !== size || cp.head !== (size ? prev : cp.head) || cp.root !== this.#tree.root()) {
      throw new Unusual(`chain ${this.id}: checkpoint ${seq} does not match`);
    }
    if (this.pub) {
      const statement = { chain: this.id, size, head: cp.head ?? "", root: cp.root ?? "", hashAlg: (cp.hashAlg ?? "") as HashAlg, prevSignature: cp.prevSignature ?? "" };
      if (!cp.signature || !verifyCheckpoint(statement, cp.signature, this.pub) || cp.prevSignature !== this.#lastSignature) {
        throw new Unusual(`chain ${this.id}: checkpoint ${seq} signature`);
      }
    }
    this.#lastSignature = cp.signature ?? "";
    this.#checkpoints++;
    this.#anchored = size;
    this.#lastCheckpointSeq = seq;
    if (cp.final) this.#finalSeq = seq;
  }

  /** The chain's report and its info problem, as the exact verifier writes them for a healthy chain. */
  finish(requireClosed: boolean): { report: ChainReport; problems: VerifyProblem[] } {
    if (this.#ahead.size > 0) throw new Unusual(`chain ${this.id}: records ${this.#expected}… missing`);
    if (this.pub && this.#checkpoints === 0) throw new Unusual(`chain ${this.id}: nothing signed`);
    const size = this.#expected - 1;
    const closed = this.#finalSeq > 0 && this.#finalSeq === size;
    const problems: VerifyProblem[] = [];
    if (!closed) {
      if (requireClosed) throw new Unusual(`chain ${this.id}: not closed`);
      const after = size - this.#lastCheckpointSeq;
      const message = this.#lastCheckpointSeq
        ? `the chain is open: ${after} record(s) after checkpoint ${this.#lastCheckpointSeq} are not covered by a checkpoint, so records cut from its end could not be seen`
        : `the chain is open and has no checkpoint: records cut from its end could not be seen`;
      problems.push({ chain: this.id, seq: this.#lastCheckpointSeq + 1, kind: "open", level: "info", message });
    }
    const report: ChainReport = { id: this.id, size, ok: true, records: this.records, checkpoints: this.#checkpoints, closed, anchored: this.#anchored, hashAlg: this.#hashAlg };
    return { report, problems };
  }
}

/** Follows chunk results in input order. */
class Walk {
  records = 0;
  #chains = new Map<string, ChainWalker>();
  constructor(
    readonly pub: KeyObject | undefined,
    readonly window: number,
  ) {}

  add(result: ChunkResult): void {
    if (result.unusual) throw new Unusual(result.unusual);
    this.records += result.records;
    let at = 0;
    for (const run of result.runs) {
      let walker = this.#chains.get(run.chain);
      if (!walker) this.#chains.set(run.chain, (walker = new ChainWalker(run.chain, this.pub, this.window)));
      walker.add(run, result.leaves, at);
      at += run.count;
    }
  }

  finish(requireClosed: boolean): VerifyResult {
    if (this.#chains.size === 0) throw new Unusual("no chained audit record");
    const chains: ChainReport[] = [];
    const problems: VerifyProblem[] = [];
    for (const walker of this.#chains.values()) {
      const done = walker.finish(requireClosed);
      chains.push(done.report);
      problems.push(...done.problems);
    }
    chains.sort((a, b) => a.id.localeCompare(b.id));
    return { ok: true, records: this.records, chains, problems };
  }
}

/**
 * The input as byte ranges of about `chunkBytes`, each file open once: the thread that checks a
 * range reads the lines it owns itself (./range.ts), so no byte is read twice or copied between
 * threads, and the file's descriptor is shared by all of them (threads share the process's). A
 * file is closed only once `settled` says no range of it is being read any more: its descriptor's
 * number could otherwise be reused by the next file while a worker still reads from it.
 */
async function* rangesOf(paths: string[], chunkBytes: number, settled: () => Promise<unknown>): AsyncGenerator<ByteRange> {
  for (const path of paths) {
    const file = await open(path, "r");
    try {
      const size = (await file.stat()).size;
      for (let start = 0; start < size; start += chunkBytes) yield { fd: file.fd, start, end: Math.min(size, start + chunkBytes), size };
    } finally {
      await settled();
      await file.close();
    }
  }
}

/**
 * Verifies OTLP JSON-lines files on worker threads. Resolves to the result when the files hold
 * healthy chains (the same result `verifyRecords` gives), or to undefined when the exact verifier
 * must judge them (anything unusual, or no key).
 */
export async function verifyFilesParallel(paths: string[], options: ParallelVerifyOptions): Promise<VerifyResult | undefined> {
  if (!options.key || paths.length === 0) return undefined;
  const pub = options.publicKey ? toPublicKey(options.publicKey) : undefined;
  const chunkBytes = options.chunkBytes ?? 1 << 20;
  const total = (await Promise.all(paths.map((p) => stat(p)))).reduce((a, s) => a + s.size, 0);
  const walk = new Walk(pub, options.reorderWindow ?? 100_000);
  const count = options.workers ?? availableParallelism();
  const setup: WorkerSetup = { key: options.key, scopes: options.scopes };
  let done = 0;
  const report = (r: ChunkResult) => {
    walk.add(r);
    done += r.bytes;
    options.onProgress?.(done, total);
  };
  if (count === 0) {
    const hmac = recordHmac(options.key);
    const inScope = scopeFilter(options.scopes);
    const scanner = new LineScanner(hmac.into, inScope);
    const reader = new RangeReader();
    const records = new ChunkRecords();
    let index = 0;
    try {
      for await (const range of rangesOf(paths, chunkBytes, async () => {})) report(verifyRange({ index: index++, ...range }, reader, hmac, inScope, scanner, records));
      return walk.finish(options.requireClosed ?? false);
    } catch (error) {
      if (error instanceof Unusual) return undefined;
      throw error;
    }
  }
  const pool = workerPool(count, { otelAuthAuditVerify: setup });
  // at most DEPTH chunks per worker in flight: memory stays bounded whatever the input's size
  const inFlight: Array<Promise<ChunkResult>> = [];
  try {
    let index = 0;
    for await (const range of rangesOf(paths, chunkBytes, () => Promise.allSettled(inFlight))) {
      const result = pool.run({ index: index++, ...range });
      result.catch(() => {}); // rejected while earlier results are awaited: handled when its turn comes
      inFlight.push(result);
      if (inFlight.length >= count * DEPTH) report(await inFlight.shift()!);
    }
    while (inFlight.length) report(await inFlight.shift()!);
    return walk.finish(options.requireClosed ?? false);
  } catch (error) {
    if (error instanceof Unusual) return undefined;
    throw error;
  } finally {
    await Promise.allSettled(inFlight);
    await pool.close();
  }
}

/** Chunks in flight per worker: the one it reads, the next queued, and results waiting their turn. */
const DEPTH = 4;

/** Input at least this large goes through the parallel verifier first. */
export const PARALLEL_MIN_BYTES = 16 * 1024 * 1024;
