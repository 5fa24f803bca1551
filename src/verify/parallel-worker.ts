/**
 * A worker of the parallel verifier (src/verify/parallel.ts): takes a byte range of the input,
 * reads the OTLP JSON lines it owns (./range.ts), does the per-record work — read, canonical form, record hash — and answers with what the main
 * thread needs to follow the chains: runs of linked records whose hashes all matched, and their
 * Merkle leaf hashes. Anything a healthy log does not contain (a line that is not an OTLP
 * request, a wrong hash, a duplicated key, an unchained audit record) makes it answer `unusual`,
 * and the main thread hands the whole input to the exact verifier.
 */
import { isUtf8 } from "node:buffer";
import { parentPort, workerData } from "node:worker_threads";
import { hmacSha256Hex, hmacSha256Into } from "../chain/keys.js";
import { ChunkRecords, verifyLine, type ChunkResult, type ChunkTask } from "./chunk.js";
import { RangeReader, type ByteRange } from "./range.js";
import { LineScanner } from "./scan.js";
import { scopeFilter, type ScopeSelection } from "../processors/scope.js";

export interface WorkerSetup {
  key: string | Uint8Array;
  scopes?: ScopeSelection;
}

/**
 * The per-record work on one chunk; exported for running without workers. Lines go to the
 * scanner, and to the exact path when the scanner does not take them (or the chunk is not UTF-8:
 * decoding then replaces bytes, and only the exact path decodes).
 */
export function verifyChunk(task: ChunkTask, hmac: RecordHmac, inScope: (scope: string) => boolean, scanner?: LineScanner, records?: ChunkRecords): ChunkResult {
  const data = Buffer.from(task.data.buffer, task.data.byteOffset, task.data.byteLength);
  const out = records?.clear() ?? new ChunkRecords();
  const scan = isUtf8(data) ? (scanner ?? new LineScanner(hmac.into, inScope)) : undefined;
  let start = 0;
  while (start < data.length && !out.unusual) {
    let end = data.indexOf(10, start);
    if (end < 0) end = data.length;
    const mark = out.mark();
    if (!scan?.line(data, start, end, out) && !out.unusual) {
      out.reset(mark);
      verifyLine(data.toString("utf8", start, end), out, hmac.hex, inScope);
    }
    start = end + 1;
  }
  return out.result(task.index, data.length);
}

/** A task of the pool: the lines a byte range of an open file owns. */
export interface RangeTask extends ByteRange {
  index: number;
}

/** `verifyChunk` of the lines `task` owns, read by `reader`; `bytes` is the range's length (progress). */
export function verifyRange(task: RangeTask, reader: RangeReader, hmac: RecordHmac, inScope: (scope: string) => boolean, scanner: LineScanner, records: ChunkRecords): ChunkResult {
  const data = reader.read(task);
  const bytes = task.end - task.start;
  if (!data) return { index: task.index, records: 0, bytes, runs: [], leaves: new Uint8Array(0), unusual: "the file changed while it was read" };
  const result = verifyChunk({ index: task.index, data }, hmac, inScope, scanner, records);
  result.bytes = bytes;
  return result;
}

/** The record hash, from a canonical string (the exact path) or from bytes written in place (the scanner). */
export interface RecordHmac {
  hex: (canonical: string) => string;
  into: (buf: Buffer, end: number, encoding: "hex" | "binary") => string;
}

export function recordHmac(key: string | Uint8Array): RecordHmac {
  const secret = Buffer.from(typeof key === "string" ? Buffer.from(key, "utf8") : key);
  return { hex: hmacSha256Hex(secret), into: hmacSha256Into(secret) };
}

if (parentPort && workerData?.otelAuthAuditVerify) {
  const setup = workerData.otelAuthAuditVerify as WorkerSetup;
  const hmac = recordHmac(setup.key);
  const inScope = scopeFilter(setup.scopes);
  const scanner = new LineScanner(hmac.into, inScope);
  const reader = new RangeReader();
  const records = new ChunkRecords();
  const port = parentPort;
  port.on("message", (task: RangeTask) => {
    const result = verifyRange(task, reader, hmac, inScope, scanner, records);
    // copied, not transferred: the leaves are a few KB, and a transferred ArrayBuffer cost far
    // more CPU than copying them (measured: about 2 µs per record more over a whole run)
    port.postMessage(result);
  });
}
