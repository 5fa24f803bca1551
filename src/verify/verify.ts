import type { AnyValue } from "@opentelemetry/api";
import type { ReadableLogRecord } from "@opentelemetry/sdk-logs";
import type { KeyObject } from "node:crypto";
import { canonicalFromOtlp, canonicalFromSdk, fromOtlpValue, otlpString, type OtlpAnyValue, type OtlpKeyValue, type OtlpLogRecord, type SdkRecordLike } from "../chain/canonical.js";
import * as z from "zod";
import { AuditOptionsError } from "../errors.js";
import { optionSchemas, parseOptions } from "../options.js";
import { scopesSchema, secretSchema } from "../option-schemas.js";
import { CHAIN_ATTR, CHECKPOINT_ATTR, CHECKPOINT_EVENT, GENESIS_PREV, type HashAlg } from "../chain/format.js";
import {
  publicKey as toPublicKey,
  recordHasher,
  secretKey,
  verifyCheckpoint,
  type AsymmetricKeyInput,
  type SecretInput,
} from "../chain/keys.js";
import { MerkleTree } from "../chain/merkle.js";
import { scopeFilter, type ScopeSelection } from "../processors/scope.js";
import type { OtlpFlatRecord } from "./otlp.js";

export type ProblemKind =
  | "altered" // the record's content or chain attributes no longer match its hash
  | "gap" // records missing (deleted) between others of the chain
  | "inserted" // a record that does not belong where it claims to be
  | "reordered" // a record whose prev points at a record other than its predecessor
  | "duplicate" // same seq and same hash: a re-delivery, not tampering (info)
  | "conflict" // same seq, two different valid hashes
  | "truncated" // the tail of a chain is missing
  | "open" // records after the last checkpoint of an open chain (info: a cut there cannot be seen)
  | "unchained" // an audit record without chain attributes
  | "unkeyed" // a chain hashed without a key although a key was given
  | "key-required" // a keyed chain verified without the key: content not checked
  | "duplicate-key" // an attribute key given twice: readers disagree on which value counts (tampering)
  | "empty" // no chained audit record in the input: nothing was proven
  | "checkpoint-signature"
  | "checkpoint-root";

export interface VerifyProblem {
  /** Chain id ("" for records outside any chain). */
  chain: string;
  /** The seq the problem is about (the first of a range), or null. */
  seq: number | null;
  kind: ProblemKind;
  /** `info` problems do not make the result fail. */
  level: "error" | "info";
  message: string;
}

export interface ChainReport {
  id: string;
  /** Highest seq seen. */
  size: number;
  ok: boolean;
  /** Records of the chain in the input, duplicates included. */
  records: number;
  checkpoints: number;
  /** Whether the chain ends in its final checkpoint (IntegrityProcessor.close()). */
  closed: boolean;
  /** Records 1..anchored are covered by a checkpoint. */
  anchored: number;
  hashAlg: HashAlg | "unknown";
}

export interface VerifyResult {
  /** True when every chain verifies and no error-level problem was found. */
  ok: boolean;
  /** Records read (all of them, audit or not). */
  records: number;
  chains: ChainReport[];
  problems: VerifyProblem[];
}

export interface VerifyOptions {
  /** The HMAC key the IntegrityProcessor used (OTEL_AUTH_AUDIT_KEY). */
  key?: SecretInput;
  /** Ed25519 public key: every checkpoint must then be signed, and its signature is checked. */
  publicKey?: AsymmetricKeyInput;
  /** A chain that does not end in its final checkpoint is `truncated` (an error), not just `open`. */
  requireClosed?: boolean;
  /** Scopes whose records must be chained. Default `["otel-auth-audit"]`; records of other scopes are checked only if chained. */
  scopes?: ScopeSelection;
  /** Input without any chained audit record verifies (ok) instead of failing as `empty`. Default false. */
  allowEmpty?: boolean;
  /** Called now and then while hashing: (records done, records in total). */
  onProgress?: (done: number, total: number) => void;
}

const verifyOptionsSchema = z.strictObject({
  key: secretSchema.optional(),
  publicKey: z
    .custom<AsymmetricKeyInput>((v) => (typeof v === "string" && v.length > 0) || v instanceof Uint8Array || (typeof v === "object" && v !== null), {
      message: "expected a PEM string, a Buffer or a KeyObject",
    })
    .optional(),
  requireClosed: z.boolean().optional(),
  scopes: scopesSchema.optional(),
  allowEmpty: z.boolean().optional(),
  onProgress: optionSchemas.fn().optional(),
});

/** Records verify reads: the SDK's ReadableLogRecords or flat OTLP JSON records (readOtlpJson). */
export type VerifiableRecord = ReadableLogRecord | OtlpFlatRecord;

/** A checkpoint record's fields, as verify reads them. */
export interface CheckpointFields {
  size?: number;
  head?: string;
  root?: string;
  hashAlg?: string;
  prevSignature?: string;
  signature?: string;
  final?: boolean;
}

interface Entry {
  record: VerifiableRecord;
  otlp: boolean;
  seq: number;
  prev: string;
  hash: string;
  valid: boolean;
  cp?: CheckpointFields;
}

const HEX64 = /^[0-9a-f]{64}$/;

const isSdk = (r: VerifiableRecord): r is ReadableLogRecord => "hrTime" in r && Array.isArray((r as ReadableLogRecord).hrTime);

/**
 * Verifies hash chains: groups records by `audit.chain.id`, orders them by seq, recomputes every
 * hash, follows the prev links, and checks each checkpoint's Merkle root and signature. Input
 * order does not matter, and exact re-deliveries (same seq, same hash) are only reported as info.
 */
export function verifyRecords(records: Iterable<VerifiableRecord>, options: VerifyOptions = {}): VerifyResult {
  // "" is not "no key": a caller who passes a key means one (an unset env var gives undefined)
  if (options.key !== undefined && (options.key as { length?: number }).length === 0) {
    throw new AuditOptionsError("otel-auth-audit: verifyRecords: option `key` is empty; leave it out to verify without a key", "key", "verifyRecords");
  }
  parseOptions("verifyRecords", verifyOptionsSchema, options);
  const key = secretKey(options.key);
  const pub = options.publicKey ? toPublicKey(options.publicKey) : undefined;
  const inScope = scopeFilter(options.scopes);
  const problems: VerifyProblem[] = [];
  const chains = new Map<string, Entry[]>();
  let total = 0;

  for (const record of records) {
    total++;
    const otlp = !isSdk(record);
    const fields = otlp ? otlpFields(record as OtlpFlatRecord) : sdkFields(record as ReadableLogRecord);
    const scope = otlp ? (record as OtlpFlatRecord).scope?.name ?? "" : (record as ReadableLogRecord).instrumentationScope?.name ?? "";
    if (typeof fields.chain !== "string" || fields.chain === "") {
      if (inScope(scope)) {
        problems.push(
          isSpoolReport(record)
            ? { chain: "", seq: null, kind: "unchained", level: "info", message: `a report of the spool (${describe(record)}) is outside the chain, as the spool writes it after the chain: not proven` }
            : { chain: "", seq: null, kind: "unchained", level: "error", message: `an audit record (${describe(record)}) carries no chain attributes` },
        );
      }
      continue;
    }
    const duplicated = otlp ? duplicateKeyOf(record as OtlpFlatRecord) : undefined;
    if (duplicated !== undefined) {
      problems.push({
        chain: fields.chain,
        seq: typeof fields.seq === "number" ? fields.seq : null,
        kind: "duplicate-key",
        level: "error",
        message: `a record carries the attribute ${JSON.stringify(duplicated)} twice (${describe(record)}): collectors keep both and readers take different ones`,
      });
    }
    const entry: Entry = {
      record,
      otlp,
      seq: typeof fields.seq === "number" ? fields.seq : NaN,
      prev: typeof fields.prev === "string" ? fields.prev : "",
      hash: typeof fields.hash === "string" ? fields.hash : "",
      valid: false,
      cp: fields.cp,
    };
    let list = chains.get(fields.chain);
    if (!list) chains.set(fields.chain, (list = []));
    list.push(entry);
  }

  const reports: ChainReport[] = [];
  let done = 0;
  for (const [id, entries] of chains) {
    reports.push(verifyChain(id, entries, key, pub, options, problems, () => {
      done++;
      if (options.onProgress && done % 16384 === 0) options.onProgress(done, total);
    }));
  }
  options.onProgress?.(total, total);
  if (chains.size === 0 && !options.allowEmpty) {
    problems.push({
      chain: "",
      seq: null,
      kind: "empty",
      level: "error",
      message: total === 0 ? "the input holds no log records: nothing was verified" : `none of the ${total} records is a chained audit record: nothing was verified`,
    });
  }
  reports.sort((a, b) => a.id.localeCompare(b.id));
  const ok = !problems.some((p) => p.level === "error");
  return { ok, records: total, chains: reports, problems };
}

function verifyChain(
  id: string,
  entries: Entry[],
  key: KeyObject | undefined,
  pub: KeyObject | undefined,
  options: VerifyOptions,
  problems: VerifyProblem[],
  tick: () => void,
): ChainReport {
  const start = problems.length;
  const report = (seq: number | null, kind: ProblemKind, message: string, level: "error" | "info" = "error") =>
    problems.push({ chain: id, seq, kind, level, message });

  // how this chain was hashed: its checkpoints say; a given key is always required to be used
  const declared = entries.find((e) => e.cp?.hashAlg)?.cp?.hashAlg as HashAlg | undefined;
  let hashAlg: HashAlg | "unknown" = declared ?? (key ? "hmac-sha256" : "sha256");
  let checkContent = true;
  if (declared === "sha256" && key) {
    report(null, "unkeyed", "the chain is hashed with plain SHA-256 (no key), so anyone could have rewritten it; verified as SHA-256");
  } else if (declared === "hmac-sha256" && !key) {
    report(null, "key-required", "the chain is keyed (HMAC-SHA256): record contents cannot be checked without --key / OTEL_AUTH_AUDIT_KEY");
    checkContent = false;
  } else if (!declared && !key) {
    hashAlg = "unknown";
  }
  const hasher = recordHasher(hashAlg === "sha256" || (hashAlg === "unknown" && !key) ? undefined : key);

  for (const e of entries) {
    if (checkContent) {
      const canonical = e.otlp ? canonicalFromOtlp(e.record as OtlpFlatRecord, CHAIN_ATTR.hash) : canonicalFromSdk(e.record as SdkRecordLike, CHAIN_ATTR.hash);
      e.valid = hasher.hash(canonical) === e.hash;
    } else {
      e.valid = true;
    }
    tick();
  }
  if (hashAlg === "unknown" && entries.length > 0 && entries.every((e) => !e.valid)) {
    report(null, "key-required", "no record matches a plain SHA-256 hash: the chain is probably keyed; give the key (--key / OTEL_AUTH_AUDIT_KEY)");
    for (const e of entries) e.valid = true;
  }

  // seq order; TimSort makes an already ordered export cost one pass
  const bad = entries.filter((e) => !Number.isSafeInteger(e.seq) || e.seq < 1);
  for (const e of bad) report(null, "altered", `a record with an invalid seq (${String(e.seq)}) ${e.valid ? "" : "and a wrong hash "}(${describe(e.record)})`);
  const ordered = (bad.length ? entries.filter((e) => !bad.includes(e)) : entries).sort((a, b) => a.seq - b.seq);

  // one chosen record per seq: the first valid one
  const chosen: Entry[] = [];
  for (let i = 0; i < ordered.length; ) {
    const seq = ordered[i].seq;
    let j = i + 1;
    while (j < ordered.length && ordered[j].seq === seq) j++;
    if (j === i + 1) {
      // the common case: one record for this seq
      const e = ordered[i];
      chosen.push(e);
      if (!e.valid) report(seq, "altered", `record ${seq} does not match its hash (${describe(e.record)})`);
      i = j;
      continue;
    }
    const group = ordered.slice(i, j);
    i = j;
    const valid = group.filter((e) => e.valid);
    const pick = valid[0] ?? group[0];
    chosen.push(pick);
    for (const e of group) {
      if (e === pick) continue;
      if (!e.valid) report(seq, valid.length ? "inserted" : "altered", valid.length ? `a forged copy of record ${seq} (its hash does not match)` : `record ${seq} does not match its hash`);
      else if (e.hash === pick.hash) report(seq, "duplicate", `record ${seq} appears more than once (re-delivery)`, "info");
      else report(seq, "conflict", `two different valid records claim seq ${seq}`);
    }
    if (!pick.valid) report(seq, "altered", `record ${seq} does not match its hash (${describe(pick.record)})`);
  }

  const hashes = new Set<string>();
  for (const e of chosen) if (e.valid) hashes.add(e.hash);

  const tree = new MerkleTree();
  let treeBroken = false;
  let expected = 1;
  let prevEntry: Entry | undefined;
  let lastSignature: string | undefined;
  let checkpoints = 0;
  let anchored = 0;
  let finalSeq = 0;
  let lastCheckpointSeq = 0;
  for (const e of chosen) {
    if (e.seq > expected) {
      report(expected, "gap", e.seq - expected === 1 ? `record ${expected} is missing` : `records ${expected}–${e.seq - 1} are missing`);
      treeBroken = true;
      prevEntry = undefined;
    }
    if (finalSeq && e.seq > finalSeq) report(e.seq, "inserted", `record ${e.seq} comes after the chain's final checkpoint (seq ${finalSeq})`);
    // the link to the predecessor
    if (e.valid) {
      if (e.seq === 1 && e.prev !== GENESIS_PREV) report(1, "inserted", "the first record does not start the chain (prev is not the genesis value)");
      else if (prevEntry?.valid && e.prev !== prevEntry.hash) {
        if (hashes.has(e.prev)) report(e.seq, "reordered", `record ${e.seq} follows another record than ${prevEntry.seq}`);
        else report(e.seq, "inserted", `record ${e.seq} does not link to record ${prevEntry.seq}`);
      }
    }
    if (e.cp && e.valid) {
      checkpoints++;
      const cp = e.cp;
      const size = e.seq - 1;
      if (cp.size !== size) report(e.seq, "checkpoint-root", `checkpoint ${e.seq} claims size ${cp.size} instead of ${size}`);
      else if (prevEntry && cp.head !== prevEntry.hash) report(e.seq, "checkpoint-root", `checkpoint ${e.seq} names another head than record ${size}`);
      else if (!treeBroken && tree.size === size && cp.root !== tree.root()) {
        report(e.seq, "checkpoint-root", `checkpoint ${e.seq}: the Merkle root of records 1–${size} differs from the signed one`);
      }
      if (pub) {
        if (!cp.signature) report(e.seq, "checkpoint-signature", `checkpoint ${e.seq} is not signed`);
        else {
          const statement = { chain: id, size: cp.size ?? -1, head: cp.head ?? "", root: cp.root ?? "", hashAlg: (cp.hashAlg ?? "") as HashAlg, prevSignature: cp.prevSignature ?? "" };
          if (!verifyCheckpoint(statement, cp.signature, pub)) report(e.seq, "checkpoint-signature", `checkpoint ${e.seq}: the signature does not verify`);
          else if (lastSignature !== undefined && cp.prevSignature !== lastSignature) {
            report(e.seq, "checkpoint-signature", `checkpoint ${e.seq} does not follow the previous checkpoint's signature`);
          } else if (lastSignature === undefined && cp.prevSignature !== "" && !treeBroken) {
            report(e.seq, "checkpoint-signature", `checkpoint ${e.seq} follows a checkpoint that is missing`);
          }
        }
      }
      lastSignature = cp.signature ?? "";
      if (!treeBroken && tree.size === size) anchored = size;
      lastCheckpointSeq = e.seq;
      if (cp.final) finalSeq = e.seq;
    }
    tree.appendHex(e.hash.length === 64 && HEX64.test(e.hash) ? e.hash : GENESIS_PREV);
    prevEntry = e;
    expected = e.seq + 1;
  }

  if (pub && checkpoints === 0) {
    report(null, "checkpoint-signature", "a public key was given but the chain has no checkpoint: nothing in it is signed");
  }
  const size = chosen.length ? chosen[chosen.length - 1].seq : 0;
  const closed = finalSeq > 0 && finalSeq === size;
  if (!closed) {
    const after = size - lastCheckpointSeq;
    const message = lastCheckpointSeq
      ? `the chain is open: ${after} record(s) after checkpoint ${lastCheckpointSeq} are not covered by a checkpoint, so records cut from its end could not be seen`
      : `the chain is open and has no checkpoint: records cut from its end could not be seen`;
    if (options.requireClosed) report(size + 1, "truncated", message.replace("the chain is open", "the chain does not end in its final checkpoint"));
    else report(lastCheckpointSeq + 1, "open", message, "info");
  }
  const ok = !problems.slice(start).some((p) => p.level === "error");
  return { id, size, ok, records: entries.length, checkpoints, closed, anchored, hashAlg };
}

/**
 * The DurableLogRecordProcessor's own reports (a dead letter, an overflow) are made in the spool,
 * after the chain, so they carry no chain attributes. Unchained, they are info, never proof: a
 * forged one cannot hide anything (the gap of a refused or dropped record is reported on its own).
 */
const SPOOL_REPORTS = new Set(["audit.spool.dead_letter", "audit.spool.overflow"]);
const isSpoolReport = (r: VerifiableRecord): boolean => r.eventName !== undefined && SPOOL_REPORTS.has(r.eventName);

interface Fields {
  chain?: unknown;
  seq?: unknown;
  prev?: unknown;
  hash?: unknown;
  cp?: CheckpointFields;
}

function sdkFields(r: ReadableLogRecord): Fields {
  const a = r.attributes;
  const f: Fields = { chain: a[CHAIN_ATTR.id], seq: a[CHAIN_ATTR.seq], prev: a[CHAIN_ATTR.prev], hash: a[CHAIN_ATTR.hash] };
  if (r.eventName === CHECKPOINT_EVENT) f.cp = checkpointFields((k) => a[k] as AnyValue);
  return f;
}

function otlpFields(r: OtlpFlatRecord): Fields {
  const f: Fields = {};
  let cpValues: Map<string, AnyValue> | undefined;
  for (const kv of r.attributes ?? []) {
    const k = kv.key;
    if (k.charCodeAt(0) !== 97 /* a */ || !k.startsWith("audit.c")) continue;
    switch (k) {
      case CHAIN_ATTR.id:
        f.chain = kv.value?.stringValue;
        break;
      case CHAIN_ATTR.seq:
        f.seq = kv.value?.intValue !== undefined ? Number(kv.value.intValue) : kv.value?.doubleValue;
        break;
      case CHAIN_ATTR.prev:
        f.prev = kv.value?.stringValue;
        break;
      case CHAIN_ATTR.hash:
        // left out of the canonical form, so read strictly: a malformed value is no hash
        f.hash = otlpString(kv.value);
        break;
      default:
        if (k.startsWith("audit.checkpoint.")) (cpValues ??= new Map()).set(k, fromOtlpValue(kv.value));
    }
  }
  if (r.eventName === CHECKPOINT_EVENT) f.cp = checkpointFields((k) => cpValues?.get(k) ?? null);
  return f;
}

function checkpointFields(get: (key: string) => AnyValue): CheckpointFields {
  const str = (k: string) => (typeof get(k) === "string" ? (get(k) as string) : undefined);
  const size = get(CHECKPOINT_ATTR.size);
  return {
    size: typeof size === "number" ? size : undefined,
    head: str(CHECKPOINT_ATTR.head),
    root: str(CHECKPOINT_ATTR.root),
    hashAlg: str(CHECKPOINT_ATTR.hashAlg),
    prevSignature: str(CHECKPOINT_ATTR.prevSignature),
    signature: str(CHECKPOINT_ATTR.signature),
    final: get(CHECKPOINT_ATTR.final) === true,
  };
}

/** The first attribute key that appears twice in a record (top level, or inside a body or attribute map). */
export function duplicateKeyOf(record: OtlpLogRecord): string | undefined {
  return duplicateIn(record.attributes) ?? (record.body ? duplicateInValue(record.body) : undefined);
}

function duplicateIn(values: OtlpKeyValue[] | undefined): string | undefined {
  // a malformed list (not an array, an entry without a key) is left to the canonical form, which never matches it
  if (!Array.isArray(values)) return undefined;
  const seen = new Set<string>();
  for (const kv of values) {
    if (!kv || typeof kv !== "object") continue;
    if (seen.has(kv.key)) return kv.key;
    seen.add(kv.key);
  }
  for (const kv of values) {
    const nested = kv && typeof kv === "object" && kv.value ? duplicateInValue(kv.value) : undefined;
    if (nested !== undefined) return `${kv.key}.${nested}`;
  }
  return undefined;
}

function duplicateInValue(v: OtlpAnyValue): string | undefined {
  if (!v || typeof v !== "object") return undefined;
  if (v.kvlistValue) return duplicateIn(v.kvlistValue.values);
  const values = v.arrayValue?.values;
  if (Array.isArray(values)) for (const x of values) if (x) { const d = duplicateInValue(x); if (d !== undefined) return d; }
  return undefined;
}

function describe(r: VerifiableRecord): string {
  const name = r.eventName ?? "no event name";
  if (isSdk(r)) return `${name} at ${new Date(r.hrTime[0] * 1000 + r.hrTime[1] / 1e6).toISOString()}`;
  try {
    return `${name} at ${new Date(Number(BigInt(r.timeUnixNano ?? 0) / 1_000_000n)).toISOString()}`;
  } catch {
    return `${name} at ${String(r.timeUnixNano)}`;
  }
}
