/**
 * What a worker of the parallel verifier collects from a chunk (`ChunkRecords`), and the exact
 * path that reads a line or a record through JSON.parse and the canonical form of
 * src/chain/canonical.ts: every record the byte scanner (./scan.ts) does not take goes here.
 */
import { hash } from "node:crypto";
import { canonicalFromOtlp, otlpString, type OtlpAnyValue, type OtlpKeyValue, type OtlpLogRecord } from "../chain/canonical.js";
import { CHAIN_ATTR, CHECKPOINT_ATTR, CHECKPOINT_EVENT } from "../chain/format.js";
import type { CheckpointFields } from "./verify.js";

/** A checkpoint's fields, read as verify.ts reads them (a summary always says whether it is final). */
export type CheckpointSummary = CheckpointFields & { final: boolean };

/** Consecutive records of one chain (seq n, n+1, …, each linking to the one before), as one entry. */
export interface Run {
  chain: string;
  /** seq of the first record. */
  seq: number;
  count: number;
  /** `audit.chain.prev` of the first record and `audit.chain.hash` of the last, hex. */
  prev: string;
  last: string;
  /** Checkpoints: the record's offset in the run, its fields, and its prev (the head it must name). */
  checkpoints: Array<[number, CheckpointSummary, string]>;
}

export interface ChunkResult {
  index: number;
  /** Log records in the chunk, audit or not. */
  records: number;
  /** Bytes of input the chunk held (progress). */
  bytes: number;
  /** The chained records, every record's hash checked, in input order. */
  runs: Run[];
  /** The Merkle leaf hash of each chained record (SHA-256(0x00 || hash)), 32 bytes each, in run order. */
  leaves: Uint8Array;
  /** Set when the chunk holds something only the exact verifier should judge. */
  unusual?: string;
}

export interface ChunkTask {
  index: number;
  /** Whole lines of OTLP JSON, UTF-8. */
  data: Uint8Array;
}

/**
 * The chained records of a chunk as they are read: chain, seq and the 32 bytes of prev and hash
 * each. Only records whose hash was recomputed and matched get here; `mark`/`reset` drop what a
 * line added when the line is read again by the exact path.
 */
export class ChunkRecords {
  records = 0;
  n = 0;
  chains: string[] = [];
  seqs: number[] = [];
  prevs = Buffer.allocUnsafe(32 * 1024);
  hashes = Buffer.allocUnsafe(32 * 1024);
  checkpoints: Array<[number, CheckpointSummary]> = [];
  unusual?: string;

  /** Empty again for the next chunk, its buffers kept (fewer ArrayBuffers for the GC to track). */
  clear(): this {
    this.records = this.n = 0;
    this.chains.length = this.seqs.length = this.checkpoints.length = 0;
    this.unusual = undefined;
    return this;
  }

  /** Room for one more record at index `n` of `prevs` and `hashes`. */
  room(): void {
    if ((this.n + 1) * 32 <= this.hashes.length) return;
    const grow = (b: Buffer) => {
      const bigger = Buffer.allocUnsafe(b.length * 2);
      b.copy(bigger, 0, 0, this.n * 32);
      return bigger;
    };
    this.prevs = grow(this.prevs);
    this.hashes = grow(this.hashes);
  }

  /** Takes the record at index `n`, whose prev and hash bytes are already written. */
  commit(chain: string, seq: number, cp?: CheckpointSummary): void {
    if (cp) this.checkpoints.push([this.n, cp]);
    this.chains.push(chain);
    this.seqs.push(seq);
    this.n++;
  }

  /** A record read by the exact path: prev and hash as hex. */
  addHex(chain: string, seq: number, prev: string, claimed: string, cp: CheckpointSummary | undefined): string | undefined {
    this.room();
    // every hash of a healthy chain (and GENESIS_PREV) is lower-case hex: anything else never links
    if (!writeHex(prev, this.prevs, this.n * 32) || !writeHex(claimed, this.hashes, this.n * 32)) return "a chain hash that is not lower-case hex";
    this.commit(chain, seq, cp);
    return undefined;
  }

  mark(): number[] {
    return [this.records, this.n, this.checkpoints.length];
  }

  reset([records, n, checkpoints]: number[]): void {
    this.records = records;
    this.n = n;
    this.chains.length = n;
    this.seqs.length = n;
    this.checkpoints.length = checkpoints;
  }

  /** The result: records cut into runs, leaf hashes computed. */
  result(index: number, bytes: number): ChunkResult {
    const out: ChunkResult = { index, records: this.records, bytes, runs: [], leaves: new Uint8Array(0) };
    if (this.unusual) return ((out.unusual = this.unusual), out);
    const { n, chains, seqs, prevs, hashes } = this;
    const leaves = Buffer.allocUnsafeSlow(n * 32);
    const leafInput = Buffer.alloc(33);
    const hex = (b: Buffer, i: number) => b.toString("hex", i * 32, i * 32 + 32);
    let run: Run | undefined;
    let cp = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < 32; j++) leafInput[j + 1] = hashes[i * 32 + j];
      leaves.write(hash("sha256", leafInput, "binary"), i * 32, "latin1");
      const links = run !== undefined && chains[i] === run.chain && seqs[i] === seqs[i - 1] + 1 && same32(prevs, hashes, i * 32, (i - 1) * 32);
      if (!links) {
        if (run) run.last = hex(hashes, i - 1);
        run = { chain: chains[i], seq: seqs[i], count: 0, prev: hex(prevs, i), last: "", checkpoints: [] };
        out.runs.push(run);
      }
      if (cp < this.checkpoints.length && this.checkpoints[cp][0] === i) run!.checkpoints.push([run!.count, this.checkpoints[cp++][1], hex(prevs, i)]);
      run!.count++;
    }
    if (run) run.last = hex(hashes, n - 1);
    out.leaves = leaves;
    return out;
  }
}

const same32 = (a: Buffer, b: Buffer, at: number, bt: number): boolean => {
  for (let j = 0; j < 32; j++) if (a[at + j] !== b[bt + j]) return false;
  return true;
};

/** Writes 64 lower-case hex digits as 32 bytes at `at`; false for anything else. */
function writeHex(text: string, into: Buffer, at: number): boolean {
  return text.length === 64 && HEX64.test(text) && into.write(text, at, 32, "hex") === 32;
}
const HEX64 = /^[0-9a-f]{64}$/;

/** One line through JSON.parse and the exact canonical form. */
export function verifyLine(line: string, out: ChunkRecords, hash: (c: string) => string, inScope: (scope: string) => boolean): void {
  const unusual = (why: string) => void (out.unusual = why);
  if (line.trim() === "") return;
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch {
    return unusual("a line that does not parse as JSON");
  }
  const resourceLogs = requestOf(doc);
  if (!resourceLogs) return unusual("a line that is not an OTLP logs request");
  for (const rl of resourceLogs) {
    if (!isObject(rl)) return unusual("a resourceLogs entry that is not an object");
    const scopeLogs = (rl as { scopeLogs?: unknown }).scopeLogs;
    if (scopeLogs === undefined) continue;
    if (!Array.isArray(scopeLogs)) return unusual("scopeLogs that is not an array");
    for (const sl of scopeLogs) {
      if (!isObject(sl)) return unusual("a scopeLogs entry that is not an object");
      const scope = (sl as { scope?: { name?: unknown } }).scope?.name;
      const records = (sl as { logRecords?: unknown }).logRecords;
      if (records === undefined) continue;
      if (!Array.isArray(records)) return unusual("logRecords that is not an array");
      for (const r of records) {
        out.records++;
        if (!isObject(r)) return unusual("a log record that is not an object");
        const why = onRecord(r as OtlpLogRecord, typeof scope === "string" ? scope : "", out, hash, inScope);
        if (why) return unusual(why);
      }
    }
  }
}

export function onRecord(r: OtlpLogRecord, scope: string, out: ChunkRecords, hash: (c: string) => string, inScope: (s: string) => boolean): string | undefined {
  const attributes = r.attributes;
  if (attributes !== undefined && !Array.isArray(attributes)) return "attributes that are not a list";
  let chain: unknown;
  let seq: unknown;
  let prev: unknown;
  let claimed: unknown;
  const keys = new Set<string>();
  for (const kv of attributes ?? []) {
    if (!isObject(kv) || typeof kv.key !== "string") return "an attribute that is not a key/value pair";
    if (keys.has(kv.key)) return "an attribute key given twice";
    keys.add(kv.key);
    if (kv.value?.kvlistValue || kv.value?.arrayValue) {
      if (nestedDuplicate(kv.value)) return "a key given twice inside an attribute value";
    }
    switch (kv.key) {
      case CHAIN_ATTR.id:
        chain = kv.value?.stringValue;
        break;
      case CHAIN_ATTR.seq:
        seq = kv.value?.intValue !== undefined ? Number(kv.value.intValue) : undefined;
        break;
      case CHAIN_ATTR.prev:
        prev = kv.value?.stringValue;
        break;
      case CHAIN_ATTR.hash:
        claimed = otlpString(kv.value); // left out of the canonical form: read strictly
        break;
    }
  }
  if (r.body && nestedDuplicate(r.body)) return "a key given twice inside a body";
  if (chain === undefined && seq === undefined && prev === undefined && claimed === undefined) {
    return inScope(scope) ? "an audit record without chain attributes" : undefined;
  }
  if (typeof chain !== "string" || chain === "" || typeof prev !== "string" || typeof claimed !== "string") return "chain attributes of an unexpected type";
  if (!Number.isSafeInteger(seq) || (seq as number) < 1) return "a record with an invalid seq";
  if (hash(canonicalFromOtlp(r, CHAIN_ATTR.hash)) !== claimed) return `record ${seq} of chain ${chain} does not match its hash`;
  return out.addHex(chain, seq as number, prev, claimed, r.eventName === CHECKPOINT_EVENT ? checkpointOf(attributes ?? []) : undefined);
}

function checkpointOf(attributes: OtlpKeyValue[]): CheckpointSummary {
  const get = (k: string) => attributes.find((kv) => kv.key === k)?.value;
  const str = (k: string) => get(k)?.stringValue;
  const size = get(CHECKPOINT_ATTR.size);
  return {
    size: size?.intValue !== undefined ? Number(size.intValue) : typeof size?.doubleValue === "number" ? size.doubleValue : undefined,
    head: str(CHECKPOINT_ATTR.head),
    root: str(CHECKPOINT_ATTR.root),
    hashAlg: str(CHECKPOINT_ATTR.hashAlg),
    prevSignature: str(CHECKPOINT_ATTR.prevSignature),
    signature: str(CHECKPOINT_ATTR.signature),
    final: get(CHECKPOINT_ATTR.final)?.boolValue === true,
  };
}

export function nestedDuplicate(v: OtlpAnyValue): boolean {
  // a malformed list is left to the canonical form, which never matches it
  if (!v || typeof v !== "object") return false;
  const kvs = v.kvlistValue?.values;
  if (Array.isArray(kvs)) {
    const seen = new Set<string>();
    for (const kv of kvs) {
      if (!kv || typeof kv !== "object") continue;
      if (seen.has(kv.key)) return true;
      seen.add(kv.key);
      if (kv.value && nestedDuplicate(kv.value)) return true;
    }
  }
  const values = v.arrayValue?.values;
  if (Array.isArray(values)) for (const x of values) if (x && nestedDuplicate(x)) return true;
  return false;
}

export const isObject = (v: unknown): v is Record<string, unknown> & { key?: unknown; value?: OtlpAnyValue } =>
  v !== null && typeof v === "object" && !Array.isArray(v);

function requestOf(doc: unknown): unknown[] | undefined {
  if (!isObject(doc)) return undefined;
  for (const k in doc) if (k !== "resourceLogs") return undefined;
  const rls = doc.resourceLogs;
  if (rls === undefined) return [];
  return Array.isArray(rls) ? rls : undefined;
}

