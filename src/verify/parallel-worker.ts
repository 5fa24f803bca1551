/**
 * A worker of the parallel verifier (src/verify/parallel.ts): takes a chunk of OTLP JSON lines,
 * does the per-record work — parse, canonical form, record hash — and answers with what the main
 * thread needs to follow the chains: per chained record its chain, seq, prev, claimed hash and
 * whether that hash is right. Anything a healthy log does not contain (a line that is not an OTLP
 * request, a duplicated key, an unchained audit record, an odd attribute type) makes it answer
 * `unusual`, and the main thread hands the whole input to the exact verifier.
 */
import type { CheckpointFields } from "./verify.js";
import { parentPort, workerData } from "node:worker_threads";
import { canonicalFromOtlp, otlpString, type OtlpAnyValue, type OtlpKeyValue, type OtlpLogRecord } from "../chain/canonical.js";
import { CHAIN_ATTR, CHECKPOINT_ATTR, CHECKPOINT_EVENT } from "../chain/format.js";
import { recordHasher, secretKey } from "../chain/keys.js";
import { scopeFilter, type ScopeSelection } from "../processors/scope.js";

export interface WorkerSetup {
  key: string | Uint8Array;
  scopes?: ScopeSelection;
}

/** A checkpoint's fields, read as verify.ts reads them (a summary always says whether it is final). */
export type CheckpointSummary = CheckpointFields & { final: boolean };

export interface ChunkResult {
  index: number;
  /** Log records in the chunk, audit or not. */
  records: number;
  /** Bytes of input the chunk held (progress). */
  bytes: number;
  /** Per chained record, in input order: */
  chain: string[];
  seq: number[];
  prev: string[];
  hash: string[];
  valid: boolean[];
  /** Checkpoint fields, keyed by the record's position in the arrays above. */
  checkpoints: Array<[number, CheckpointSummary]>;
  /** Set when the chunk holds something only the exact verifier should judge. */
  unusual?: string;
}

export interface ChunkTask {
  index: number;
  text: string;
}

/** The per-record work on one chunk; exported for tests and for running without workers. */
export function verifyChunk(task: ChunkTask, hash: (canonical: string) => string, inScope: (scope: string) => boolean): ChunkResult {
  const out: ChunkResult = { index: task.index, records: 0, bytes: Buffer.byteLength(task.text), chain: [], seq: [], prev: [], hash: [], valid: [], checkpoints: [] };
  const unusual = (why: string) => ((out.unusual = why), out);
  const text = task.text;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    if (line.trim() === "") continue;
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
  return out;
}

function onRecord(r: OtlpLogRecord, scope: string, out: ChunkResult, hash: (c: string) => string, inScope: (s: string) => boolean): string | undefined {
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
  const i = out.chain.length;
  out.chain.push(chain);
  out.seq.push(seq as number);
  out.prev.push(prev);
  out.hash.push(claimed);
  out.valid.push(hash(canonicalFromOtlp(r, CHAIN_ATTR.hash)) === claimed);
  if (r.eventName === CHECKPOINT_EVENT) out.checkpoints.push([i, checkpointOf(attributes ?? [])]);
  return undefined;
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

function nestedDuplicate(v: OtlpAnyValue): boolean {
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

const isObject = (v: unknown): v is Record<string, unknown> & { key?: unknown; value?: OtlpAnyValue } =>
  v !== null && typeof v === "object" && !Array.isArray(v);

function requestOf(doc: unknown): unknown[] | undefined {
  if (!isObject(doc)) return undefined;
  for (const k in doc) if (k !== "resourceLogs") return undefined;
  const rls = doc.resourceLogs;
  if (rls === undefined) return [];
  return Array.isArray(rls) ? rls : undefined;
}

if (parentPort && workerData?.otelAuthAuditVerify) {
  const setup = workerData.otelAuthAuditVerify as WorkerSetup;
  const { hash } = recordHasher(secretKey(typeof setup.key === "string" ? setup.key : Buffer.from(setup.key)));
  const inScope = scopeFilter(setup.scopes);
  const port = parentPort;
  port.on("message", (task: ChunkTask) => port.postMessage(verifyChunk(task, hash, inScope)));
}
