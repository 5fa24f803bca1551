/**
 * Writes a large, valid audit log fast: OTLP JSON lines (one ExportLogsServiceRequest of 512
 * records a line, as the collector's file exporter writes them) of one hash chain with signed
 * checkpoints every 1000 records and a final checkpoint, built straight in OTLP form with the
 * chain's own functions (canonical form, HMAC, Merkle tree, checkpoint signature) instead of
 * going through the SDK, its JSON serializer and a processor per record. The verify bench checks
 * the result with the exact verifier where it fits in memory.
 */
import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";
import type { KeyObject } from "node:crypto";
import { canonicalFromOtlp, type OtlpKeyValue, type OtlpLogRecord } from "../src/chain/canonical.js";
import { CHAIN_ATTR, CHECKPOINT_ATTR, CHECKPOINT_EVENT, GENESIS_PREV } from "../src/chain/format.js";
import { recordHasher, secretKey, signCheckpoint } from "../src/chain/keys.js";
import { MerkleTree } from "../src/chain/merkle.js";
import { uuidv7 } from "../src/uuid.js";
import { SCOPE_NAME, VERSION } from "../src/version.js";

const str = (key: string, value: string): OtlpKeyValue => ({ key, value: { stringValue: value } });
const int = (key: string, value: number): OtlpKeyValue => ({ key, value: { intValue: value } });

export function writeChainLog(path: string, count: number, key: string, signingKey: KeyObject, onProgress?: (done: number) => void): void {
  const fd = openSync(path, "w");
  const { hash } = recordHasher(secretKey(key));
  const chain = uuidv7();
  const tree = new MerkleTree();
  const head = `{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"bench"}}]},"scopeLogs":[{"scope":{"name":"${SCOPE_NAME}","version":"${VERSION}"},"logRecords":[`;
  let batch: string[] = [];
  let prev = GENESIS_PREV;
  let lastSignature = "";
  const t0 = BigInt(Date.UTC(2026, 10, 1)) * 1_000_000n;
  const emit = (seq: number, record: OtlpLogRecord) => {
    const attributes = record.attributes!;
    attributes.push(str(CHAIN_ATTR.id, chain), int(CHAIN_ATTR.seq, seq), str(CHAIN_ATTR.prev, prev));
    const h = hash(canonicalFromOtlp(record, CHAIN_ATTR.hash));
    attributes.push(str(CHAIN_ATTR.hash, h));
    tree.appendHex(h);
    prev = h;
    batch.push(JSON.stringify(record));
    if (batch.length === 512) flush();
  };
  const flush = () => {
    if (batch.length === 0) return;
    writeSync(fd, head + batch.join(",") + "]}]}]}\n");
    batch = [];
  };
  const time = (seq: number) => String(t0 + BigInt(seq) * 1_000_000n);
  const checkpoint = (seq: number, final: boolean) => {
    const statement = { chain, size: seq - 1, head: prev, root: tree.root(), hashAlg: "hmac-sha256" as const, prevSignature: lastSignature };
    const signature = signCheckpoint(statement, signingKey);
    lastSignature = signature;
    const attributes = [
      str(CHECKPOINT_ATTR.reason, final ? "close" : "count"),
      int(CHECKPOINT_ATTR.size, statement.size),
      str(CHECKPOINT_ATTR.head, statement.head),
      str(CHECKPOINT_ATTR.root, statement.root),
      str(CHECKPOINT_ATTR.hashAlg, statement.hashAlg),
      str(CHECKPOINT_ATTR.prevSignature, statement.prevSignature),
      str(CHECKPOINT_ATTR.signature, signature),
    ];
    if (final) attributes.push({ key: CHECKPOINT_ATTR.final, value: { boolValue: true } });
    emit(seq, { timeUnixNano: time(seq), observedTimeUnixNano: time(seq), severityNumber: 9, severityText: "INFO", eventName: CHECKPOINT_EVENT, attributes });
  };
  for (let seq = 1; seq <= count; seq++) {
    if (seq === count) checkpoint(seq, true);
    else if (seq % 1001 === 0) checkpoint(seq, false); // 1000 records, then their checkpoint
    else {
      emit(seq, {
        timeUnixNano: time(seq),
        observedTimeUnixNano: time(seq),
        severityNumber: 10,
        severityText: "INFO",
        body: { stringValue: "sign-in:email success" },
        eventName: "auth.sign_in.email",
        attributes: [
          str("audit.action", "sign-in:email"),
          str("audit.outcome", "success"),
          str("audit.severity", "medium"),
          str("audit.id", `0190f0e0-0000-7000-8000-${String(seq).padStart(12, "0")}`),
          str("user.id", `user_${seq % 5000}`),
          str("session.id", `sess_${seq}`),
          str("client.address", "203.0.113.9"),
          str("user_agent.original", "Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0"),
          str("http.request.method", "POST"),
          str("url.path", "/sign-in/email"),
          int("http.response.status_code", 200),
        ],
      });
    }
    if (onProgress && seq % 100_000 === 0) onProgress(seq);
  }
  flush();
  // on disk before anyone times a read of it: the kernel's writeback of a fresh gigabyte would
  // otherwise take a core from whatever runs next
  fsyncSync(fd);
  closeSync(fd);
}
