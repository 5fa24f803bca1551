import { diag } from "@opentelemetry/api";
import type { Resource } from "@opentelemetry/resources";
import type { ReadableLogRecord } from "@opentelemetry/sdk-logs";
import {
  closeSync,
  fdatasyncSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { SpoolLockedError } from "../errors.js";
import {
  encodeRecord,
  encodeResource,
  encodeScope,
  FRAME_RECORD,
  FRAME_RESOURCE,
  FRAME_SCOPE,
  SegmentDecoder,
  SharedDictionary,
} from "./record-codec.js";

/**
 * The on-disk spool: append-only segment files of CRC-checked frames, and a cursor file naming the
 * first record not yet acknowledged by the exporter. Synchronous on purpose: a record is in the
 * kernel (or on disk, per fsync policy) before onEmit returns.
 *
 * Frame: [u32 payload length][u32 crc32(type byte + payload)][u8 type][payload: UTF-8 JSON].
 */

export type FsyncPolicy = "always" | "interval" | "never";

export interface SpoolOptions {
  directory: string;
  segmentBytes: number;
  fsync: FsyncPolicy;
  fsyncIntervalMillis: number;
}

/** Records read from one segment, `[start, end)` in bytes. */
export interface SpoolBatch {
  seq: number;
  start: number;
  end: number;
  records: ReadableLogRecord[];
}

export interface DroppedSegment {
  /** Unacknowledged records it held, overflow records included. */
  records: number;
  bytes: number;
  /** How many of those were overflow records, and the drop counts they carried. */
  overflowRecords: number;
  carried: number;
}

/** A dictionary frame: id, frame bytes, and its type and payload for the segment's decoder. */
type DictEntry = [id: number, frame: Buffer, type: number, payload: string];

/** A record still in memory: the frames from `start` to `end` of segment `seq` hold it. */
interface TailEntry {
  record: ReadableLogRecord;
  seq: number;
  start: number;
  end: number;
}

interface Segment {
  seq: number;
  path: string;
  /** Bytes of valid frames. */
  size: number;
  records: number;
  ackedRecords: number;
  decoder: SegmentDecoder;
  readFd?: number;
  /** Overflow records in this segment: where, and how many lost records each reports. */
  overflow: Array<{ offset: number; carried: number }>;
}

const HEADER = 9;
/** Recent records kept in memory, so exporting them needs no read and decode from disk. */
const TAIL_RECORDS = 4096;
const TAIL_BYTES = 8 << 20;
const SEGMENT_PREFIX = "segment-";
const SEGMENT_SUFFIX = ".seg";
const READ_CHUNK = 1 << 20;
/** Any frame claiming more than this is corruption, not a record. */
const MAX_FRAME = 64 << 20;
/** Directories held by this process: a second spool on one directory would interleave writes. */
const HELD = new Set<string>();

export class Spool {
  readonly directory: string;
  readonly #opts: SpoolOptions;
  readonly #shared = new SharedDictionary();
  readonly #segments: Segment[] = [];
  #active!: Segment;
  #writeFd = -1;
  #cursorFd = -1;
  #lockPath: string;
  /** Read position: segment seq and byte offset. */
  #readSeq = 0;
  #readOffset = 0;
  /** Acknowledged position. */
  #ackSeq = 0;
  #ackOffset = 0;
  #bytes = 0;
  #records = 0;
  /** Highest segment seq seen, so seqs never go back (the cursor names segments by seq). */
  #maxSeq = 0;
  #dirty = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  /** Dictionary ids by object identity; written once per segment. */
  readonly #resourceIds = new WeakMap<Resource, DictEntry>();
  readonly #scopeIds = new WeakMap<object, DictEntry>();
  #nextId = 1;
  #written = new Set<number>();
  /** The frame staged by stage(), waiting for commit(). */
  #scratch = Buffer.allocUnsafe(64 * 1024);
  #stagedLength = 0;
  #stagedDicts: DictEntry[] = [];
  #stagedRecord: ReadableLogRecord | undefined;
  /** Records of this process not yet acknowledged, oldest first from #tailHead; contiguous on disk. */
  #tail: TailEntry[] = [];
  #tailHead = 0;
  #tailBytes = 0;
  /** False once the tail was full: it reopens when the reader has caught up with the writer. */
  #tailOpen = true;
  #readBuffer = Buffer.allocUnsafe(READ_CHUNK);

  /** Records found on disk at open, and bytes of torn or corrupt frames discarded. */
  readonly recovered = { records: 0, segments: 0, discardedBytes: 0 };

  constructor(options: SpoolOptions) {
    this.#opts = options;
    this.directory = options.directory;
    this.#lockPath = join(this.directory, "lock");
    mkdirSync(this.directory, { recursive: true });
    this.#lock();
    try {
      this.#recover();
      this.#openActive(this.#maxSeq + 1);
      if (options.fsync === "interval") {
        this.#timer = setInterval(() => this.sync(), options.fsyncIntervalMillis);
        this.#timer.unref();
      }
    } catch (error) {
      this.#unlock();
      throw error;
    }
  }

  /** Bytes of segment files on disk. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Records not yet acknowledged. */
  get records(): number {
    return this.#records;
  }

  /** Seq of the oldest live segment (batches of older segments were dropped). */
  get firstSeq(): number {
    return this.#segments[0].seq;
  }

  /** Serialises a record into the scratch frame; returns (at most) the bytes commit() will add. */
  stage(record: ReadableLogRecord): number {
    const resource = this.#dict(record.resource, this.#resourceIds, FRAME_RESOURCE, encodeResource);
    const scope = this.#dict(record.instrumentationScope, this.#scopeIds, FRAME_SCOPE, encodeScope);
    this.#stagedDicts[0] = resource;
    this.#stagedDicts[1] = scope;
    this.#stagedRecord = record;
    const payload = encodeRecord(record, resource[0], scope[0]);
    const max = HEADER + payload.length * 3;
    if (this.#scratch.length < max) this.#scratch = Buffer.allocUnsafe(max);
    this.#stagedLength = HEADER + this.#scratch.write(payload, HEADER);
    let bytes = this.#stagedLength;
    if (!this.#written.has(resource[0])) bytes += resource[1].length;
    if (!this.#written.has(scope[0])) bytes += scope[1].length;
    return bytes;
  }

  /**
   * Appends the staged frame, after the dictionary frames the segment lacks. Throws on I/O failure.
   * `carried`: the staged record is an overflow record reporting that many lost records.
   */
  commit(carried?: number): void {
    if (this.#writeFd < 0) this.#openActive(this.#maxSeq + 1); // an earlier rotation failed half-way
    const length = this.#stagedLength;
    let total = length;
    for (const [id, dict] of this.#stagedDicts) if (!this.#written.has(id)) total += dict.length;
    if (this.#active.size > 0 && this.#active.size + total > this.#opts.segmentBytes) {
      this.#rotate();
      return this.commit(carried);
    }
    const frame = this.#scratch;
    frame.writeUInt32LE(length - HEADER, 0);
    frame[8] = FRAME_RECORD;
    frame.writeUInt32LE(crc32(frame.subarray(8, length)), 4);
    const sizeBefore = this.#active.size;
    try {
      for (const [id, dict, type, payload] of this.#stagedDicts) {
        if (this.#written.has(id)) continue;
        this.#write(dict, dict.length);
        this.#written.add(id);
        this.#active.decoder.define(type, payload); // the reader may start after this frame (tail, rewind)
      }
      if (carried !== undefined) this.#active.overflow.push({ offset: this.#active.size, carried });
      this.#write(frame, length);
    } catch (error) {
      // A partial frame would end replay of this segment there: cut it off.
      try {
        ftruncateSync(this.#writeFd, sizeBefore);
        this.#bytes -= this.#active.size - sizeBefore;
        this.#active.size = sizeBefore;
        this.#written = new Set(); // dictionary frames may have been cut too
        if (carried !== undefined) this.#active.overflow.pop();
      } catch {
        this.#rotate();
      }
      throw error;
    }
    this.#active.records++;
    this.#records++;
    this.#remember(sizeBefore);
    if (this.#opts.fsync === "always") fdatasyncSync(this.#writeFd);
    else this.#dirty = true;
  }

  /** Reads up to `max` records from the read position, within one segment. */
  read(max: number): SpoolBatch | undefined {
    for (;;) {
      const index = this.#segments.findIndex((s) => s.seq >= this.#readSeq);
      if (index < 0) return undefined;
      const segment = this.#segments[index];
      if (segment.seq !== this.#readSeq) {
        this.#readSeq = segment.seq;
        this.#readOffset = 0;
      }
      if (this.#readOffset >= segment.size) {
        if (segment === this.#active) return undefined;
        this.#closeRead(segment);
        this.#readSeq = segment.seq + 1;
        this.#readOffset = 0;
        continue;
      }
      const start = this.#readOffset;
      const cached = this.#fromTail(segment.seq, start, max);
      if (cached) return cached;
      const records: ReadableLogRecord[] = [];
      const end = this.#readFrames(segment, start, (type, payload) => {
        if (type === FRAME_RECORD) records.push(segment.decoder.decode(payload));
        else segment.decoder.define(type, payload);
        return records.length < max;
      });
      this.#readOffset = end;
      if (records.length > 0) return { seq: segment.seq, start, end, records };
    }
  }

  /** Rewinds reading to the acknowledged position (after a failed export the batch is re-sent). */
  rewind(): void {
    this.#readSeq = this.#ackSeq;
    this.#readOffset = this.#ackOffset;
  }

  /** Marks a batch exported: moves the cursor and deletes segments that are fully acknowledged. */
  ack(batch: SpoolBatch): void {
    const segment = this.#segments.find((s) => s.seq === batch.seq);
    if (!segment) return; // dropped meanwhile
    if (batch.seq < this.#ackSeq || (batch.seq === this.#ackSeq && batch.end <= this.#ackOffset)) return;
    segment.ackedRecords += batch.records.length;
    this.#records -= batch.records.length;
    this.#ackSeq = batch.seq;
    this.#ackOffset = batch.end;
    if (segment !== this.#active && batch.end >= segment.size) {
      this.#ackSeq = segment.seq + 1;
      this.#ackOffset = 0;
    }
    this.#writeCursor();
    this.#deleteAcknowledged();
    this.#forgetAcknowledged();
  }

  /**
   * Deletes the oldest segment that is neither being written to nor `busySeq` (the one whose batch
   * is being exported); undefined when there is none.
   */
  dropOldest(busySeq?: number): DroppedSegment | undefined {
    const segment = this.#segments.find((s) => s !== this.#active && s.seq !== busySeq);
    if (!segment) return undefined;
    const records = segment.records - segment.ackedRecords;
    const from = segment.seq === this.#ackSeq ? this.#ackOffset : 0;
    const overflow = segment.overflow.filter((o) => o.offset >= from);
    this.#records -= records;
    const next = this.#segments[this.#segments.indexOf(segment) + 1].seq;
    // Positions inside the dropped segment move to the next one; positions in an older (busy) one stay.
    const inDropped = (seq: number) => this.#segments.find((s) => s.seq >= seq) === segment;
    if (inDropped(this.#ackSeq)) {
      this.#ackSeq = next;
      this.#ackOffset = 0;
    }
    if (inDropped(this.#readSeq)) {
      this.#readSeq = next;
      this.#readOffset = 0;
    }
    this.#writeCursor();
    this.#remove(segment);
    this.#tail = this.#tail.slice(this.#tailHead).filter((t) => {
      if (t.seq === segment.seq) this.#tailBytes -= t.end - t.start;
      return t.seq !== segment.seq;
    });
    this.#tailHead = 0;
    return { records, bytes: segment.size, overflowRecords: overflow.length, carried: overflow.reduce((n, o) => n + o.carried, 0) };
  }

  /** Keeps the record just committed in memory, while there is room and the tail is contiguous. */
  #remember(start: number): void {
    const record = this.#stagedRecord;
    this.#stagedRecord = undefined;
    if (!record) return;
    const empty = this.#tailHead === this.#tail.length;
    if (!this.#tailOpen) {
      // Reopen only where reading from disk would continue straight into the tail.
      if (!empty || this.#readSeq !== this.#active.seq || this.#readOffset !== start) return;
      this.#tailOpen = true;
    }
    if (this.#tail.length - this.#tailHead >= TAIL_RECORDS || this.#tailBytes >= TAIL_BYTES) {
      this.#tailOpen = false;
      return;
    }
    // `start` is before the dictionary frames written with this record: they belong to its entry.
    const end = this.#active.size;
    this.#tail.push({ record, seq: this.#active.seq, start, end });
    this.#tailBytes += end - start;
  }

  #fromTail(seq: number, start: number, max: number): SpoolBatch | undefined {
    let i = this.#tailHead;
    while (i < this.#tail.length && (this.#tail[i].seq < seq || (this.#tail[i].seq === seq && this.#tail[i].start < start))) i++;
    const first = this.#tail[i];
    if (!first || first.seq !== seq || first.start !== start) return undefined;
    const records: ReadableLogRecord[] = [];
    let end = start;
    while (i < this.#tail.length && records.length < max && this.#tail[i].seq === seq && this.#tail[i].start === end) {
      records.push(this.#tail[i].record);
      end = this.#tail[i].end;
      i++;
    }
    this.#readOffset = end;
    return { seq, start, end, records };
  }

  #forgetAcknowledged(): void {
    let head = this.#tailHead;
    while (head < this.#tail.length) {
      const t = this.#tail[head];
      if (t.seq > this.#ackSeq || (t.seq === this.#ackSeq && t.end > this.#ackOffset)) break;
      this.#tailBytes -= t.end - t.start;
      head++;
    }
    if (head > 1024 && head * 2 > this.#tail.length) {
      this.#tail = this.#tail.slice(head);
      head = 0;
    }
    this.#tailHead = head;
  }

  /** The observed time (ms) of the oldest unacknowledged record, read from disk. */
  oldestObservedMs(): number | undefined {
    if (this.#records === 0) return undefined;
    for (const segment of this.#segments) {
      if (segment.seq < this.#ackSeq) continue;
      const start = segment.seq === this.#ackSeq ? this.#ackOffset : 0;
      if (start >= segment.size) continue;
      let observed: number | undefined;
      this.#readFrames(segment, start, (type, payload) => {
        if (type !== FRAME_RECORD) return true;
        const [, , s, ns] = JSON.parse(payload) as number[];
        observed = s * 1000 + ns / 1e6;
        return false;
      });
      if (observed !== undefined) return observed;
    }
    return undefined;
  }

  /** fdatasync of the segment being written, if anything was written since the last one. */
  sync(): void {
    if (!this.#dirty || this.#writeFd < 0) return;
    this.#dirty = false;
    try {
      fdatasyncSync(this.#writeFd);
    } catch (error) {
      diag.error("otel-auth-audit: spool fsync failed", error);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    if (this.#opts.fsync !== "never") this.sync();
    for (const segment of this.#segments) this.#closeRead(segment);
    if (this.#writeFd >= 0) closeSync(this.#writeFd);
    this.#writeFd = -1;
    if (this.#cursorFd >= 0) {
      if (this.#opts.fsync !== "never") fsyncSync(this.#cursorFd);
      closeSync(this.#cursorFd);
    }
    this.#cursorFd = -1;
    // Nothing left to send: leave no segment behind (the next start opens its own).
    if (this.#records === 0) for (const segment of [...this.#segments]) this.#remove(segment);
    this.#unlock();
  }

  #write(buffer: Buffer, length: number): void {
    let done = 0;
    while (done < length) done += writeSync(this.#writeFd, buffer, done, length - done);
    this.#active.size += length;
    this.#bytes += length;
  }

  /** The dictionary id and frame of a resource or scope, by object identity. */
  #dict<T extends object>(
    object: T,
    ids: WeakMap<T, DictEntry>,
    type: number,
    encode: (id: number, object: T) => string,
  ): DictEntry {
    let entry = ids.get(object);
    if (!entry) {
      const id = this.#nextId++;
      const payload = encode(id, object);
      entry = [id, frameOf(type, payload), type, payload];
      // Resources with pending async attributes may still change: do not remember them.
      if (!(object as Partial<Resource>).asyncAttributesPending) ids.set(object, entry);
    }
    return entry;
  }

  #rotate(): void {
    const old = this.#active;
    if (this.#opts.fsync !== "never") fdatasyncSync(this.#writeFd);
    closeSync(this.#writeFd);
    this.#writeFd = -1;
    this.#openActive(old.seq + 1);
    if (this.#ackSeq === old.seq && this.#ackOffset >= old.size) {
      this.#ackSeq = this.#active.seq;
      this.#ackOffset = 0;
      this.#writeCursor();
      this.#deleteAcknowledged();
    }
  }

  #openActive(seq: number): void {
    const path = join(this.directory, segmentName(seq));
    this.#maxSeq = Math.max(this.#maxSeq, seq);
    this.#writeFd = openSync(path, "ax");
    this.#active = { seq, path, size: 0, records: 0, ackedRecords: 0, decoder: new SegmentDecoder(this.#shared), overflow: [] };
    this.#segments.push(this.#active);
    this.#written = new Set();
    this.#dirty = false;
    if (this.#opts.fsync !== "never") syncDirectory(this.directory);
  }

  #deleteAcknowledged(): void {
    while (this.#segments.length > 0 && this.#segments[0].seq < this.#ackSeq && this.#segments[0] !== this.#active) {
      this.#remove(this.#segments[0]);
    }
  }

  #remove(segment: Segment): void {
    this.#closeRead(segment);
    const index = this.#segments.indexOf(segment);
    if (index >= 0) this.#segments.splice(index, 1);
    this.#bytes -= segment.size;
    try {
      unlinkSync(segment.path);
    } catch (error) {
      diag.error(`otel-auth-audit: could not delete spool segment ${segment.path}`, error);
    }
  }

  #closeRead(segment: Segment): void {
    if (segment.readFd !== undefined) closeSync(segment.readFd);
    segment.readFd = undefined;
  }

  /**
   * Walks frames of `segment` from `start` and hands each to `visit` until it returns false;
   * returns the offset after the last frame visited. Stops at a corrupt frame.
   */
  #readFrames(segment: Segment, start: number, visit: (type: number, payload: string) => boolean): number {
    segment.readFd ??= openSync(segment.path, "r");
    let offset = start;
    while (offset < segment.size) {
      const want = Math.min(segment.size - offset, this.#readBuffer.length);
      const got = readFully(segment.readFd, this.#readBuffer, want, offset);
      let pos = 0;
      while (pos + HEADER <= got) {
        const length = this.#readBuffer.readUInt32LE(pos);
        if (length > MAX_FRAME) return this.#corrupt(segment, offset + pos);
        if (pos + HEADER + length > got) break;
        const crc = this.#readBuffer.readUInt32LE(pos + 4);
        if (crc32(this.#readBuffer.subarray(pos + 8, pos + HEADER + length)) !== crc) return this.#corrupt(segment, offset + pos);
        const type = this.#readBuffer[pos + 8];
        const payload = this.#readBuffer.toString("utf8", pos + HEADER, pos + HEADER + length);
        pos += HEADER + length;
        if (!visit(type, payload)) return offset + pos;
      }
      if (pos === 0) {
        if (got < HEADER) return this.#corrupt(segment, offset);
        // One frame larger than the buffer: grow and retry.
        const length = this.#readBuffer.readUInt32LE(0);
        if (HEADER + length > segment.size - offset) return this.#corrupt(segment, offset);
        this.#readBuffer = Buffer.allocUnsafe(HEADER + length);
        continue;
      }
      offset += pos;
    }
    return offset;
  }

  #corrupt(segment: Segment, at: number): number {
    diag.error(`otel-auth-audit: corrupt frame in spool segment ${segment.path} at byte ${at}; the rest of the segment is skipped`);
    return segment.size;
  }

  #recover(): void {
    const cursor = this.#readCursor();
    const seqs = readdirSync(this.directory)
      .filter((f) => f.startsWith(SEGMENT_PREFIX) && f.endsWith(SEGMENT_SUFFIX))
      .map((f) => Number(f.slice(SEGMENT_PREFIX.length, -SEGMENT_SUFFIX.length)))
      .filter((n) => Number.isSafeInteger(n) && n > 0)
      .sort((a, b) => a - b);
    this.#maxSeq = Math.max(cursor?.seq ?? 0, seqs.at(-1) ?? 0);
    for (const seq of seqs) {
      const path = join(this.directory, segmentName(seq));
      if (cursor && seq < cursor.seq) {
        unlinkSync(path); // acknowledged before a crash, not yet deleted
        continue;
      }
      const segment = this.#scan(seq, path, cursor && cursor.seq === seq ? cursor.offset : 0);
      if (segment.records - segment.ackedRecords === 0) {
        this.#closeRead(segment);
        unlinkSync(path);
        continue;
      }
      this.#segments.push(segment);
      this.#bytes += segment.size;
      this.#records += segment.records - segment.ackedRecords;
    }
    this.recovered.records = this.#records;
    this.recovered.segments = this.#segments.length;
    const first = this.#segments[0];
    if (first && cursor && cursor.seq === first.seq) {
      this.#ackSeq = first.seq;
      this.#ackOffset = Math.min(cursor.offset, first.size);
    } else {
      this.#ackSeq = first ? first.seq : 0;
      this.#ackOffset = 0;
    }
    this.#readSeq = this.#ackSeq;
    this.#readOffset = this.#ackOffset;
    this.#cursorFd = openForUpdate(join(this.directory, "cursor"));
    this.#writeCursor();
  }

  /** Reads a segment left by an earlier run: counts records, learns its dictionary, cuts a torn tail. */
  #scan(seq: number, path: string, ackOffset: number): Segment {
    const fileSize = statSync(path).size;
    const segment: Segment = {
      seq, path, size: fileSize, records: 0, ackedRecords: 0, decoder: new SegmentDecoder(this.#shared), overflow: [],
    };
    let valid = 0;
    let torn = false;
    segment.readFd = openSync(path, "r");
    let offset = 0;
    while (offset < fileSize && !torn) {
      const want = Math.min(fileSize - offset, this.#readBuffer.length);
      const got = readFully(segment.readFd, this.#readBuffer, want, offset);
      let pos = 0;
      while (pos + HEADER <= got) {
        const length = this.#readBuffer.readUInt32LE(pos);
        if (length > MAX_FRAME || offset + pos + HEADER + length > fileSize) {
          torn = true;
          break;
        }
        if (pos + HEADER + length > got) break;
        const crc = this.#readBuffer.readUInt32LE(pos + 4);
        if (crc32(this.#readBuffer.subarray(pos + 8, pos + HEADER + length)) !== crc) {
          torn = true;
          break;
        }
        const type = this.#readBuffer[pos + 8];
        if (type === FRAME_RECORD) {
          segment.records++;
          if (offset + pos < ackOffset) segment.ackedRecords++;
          const carried = overflowCount(this.#readBuffer, pos + HEADER, pos + HEADER + length);
          if (carried !== undefined) segment.overflow.push({ offset: offset + pos, carried });
        } else {
          segment.decoder.define(type, this.#readBuffer.toString("utf8", pos + HEADER, pos + HEADER + length));
        }
        pos += HEADER + length;
      }
      if (pos === 0 && !torn) {
        if (got < HEADER) {
          torn = true;
          break;
        }
        const length = this.#readBuffer.readUInt32LE(0);
        this.#readBuffer = Buffer.allocUnsafe(HEADER + length);
        continue;
      }
      offset += pos;
      valid = offset;
      if (offset + HEADER > fileSize && offset < fileSize) torn = true;
    }
    if (valid < fileSize) {
      this.recovered.discardedBytes += fileSize - valid;
      diag.warn(`otel-auth-audit: spool segment ${path} ends in ${fileSize - valid} bytes of an incomplete frame (a crash while writing); they are discarded`);
      const fd = openSync(path, "r+");
      ftruncateSync(fd, valid);
      closeSync(fd);
    }
    segment.size = valid;
    return segment;
  }

  #readCursor(): { seq: number; offset: number } | undefined {
    let data: Buffer;
    try {
      data = readFileSync(join(this.directory, "cursor"));
    } catch {
      return undefined;
    }
    if (data.length < 12 || crc32(data.subarray(0, 8)) !== data.readUInt32LE(8)) return undefined;
    return { seq: data.readUInt32LE(0), offset: data.readUInt32LE(4) };
  }

  /** Not fsynced: a cursor lost to a power cut only means records are sent twice. */
  #writeCursor(): void {
    const buffer = Buffer.allocUnsafe(12);
    buffer.writeUInt32LE(this.#ackSeq, 0);
    buffer.writeUInt32LE(this.#ackOffset, 4);
    buffer.writeUInt32LE(crc32(buffer.subarray(0, 8)), 8);
    writeSync(this.#cursorFd, buffer, 0, 12, 0);
  }

  #lock(): void {
    const dir = this.directory;
    if (HELD.has(dir)) throw new SpoolLockedError(dir, process.pid);
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = openSync(this.#lockPath, "wx");
        writeSync(fd, String(process.pid));
        closeSync(fd);
        HELD.add(dir);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      const pid = Number(readTextOrEmpty(this.#lockPath));
      if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) throw new SpoolLockedError(dir, pid);
      try {
        unlinkSync(this.#lockPath); // stale: its process is gone
      } catch {
        // another process took it over first; try again
      }
    }
    throw new SpoolLockedError(dir, Number(readTextOrEmpty(this.#lockPath)) || 0);
  }

  #unlock(): void {
    HELD.delete(this.directory);
    try {
      if (Number(readTextOrEmpty(this.#lockPath)) === process.pid) unlinkSync(this.#lockPath);
    } catch {
      // already gone
    }
  }
}

const OVERFLOW_MARK = Buffer.from('"audit.spool.overflow"');

/** For an overflow record's payload, the lost-record count it reports (found again after a restart). */
function overflowCount(buffer: Buffer, start: number, end: number): number | undefined {
  const at = buffer.indexOf(OVERFLOW_MARK, start);
  if (at < 0 || at >= end) return undefined;
  const attributes = (JSON.parse(buffer.toString("utf8", start, end)) as unknown[])[10] as Record<string, unknown>;
  const count = attributes?.["audit.spool.dropped_records"];
  return typeof count === "number" ? count : undefined;
}

function frameOf(type: number, payload: string): Buffer {
  const body = Buffer.from(payload);
  const frame = Buffer.allocUnsafe(HEADER + body.length);
  frame.writeUInt32LE(body.length, 0);
  frame[8] = type;
  body.copy(frame, HEADER);
  frame.writeUInt32LE(crc32(frame.subarray(8)), 4);
  return frame;
}

function segmentName(seq: number): string {
  return `${SEGMENT_PREFIX}${String(seq).padStart(10, "0")}${SEGMENT_SUFFIX}`;
}

function readFully(fd: number, buffer: Buffer, length: number, position: number): number {
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buffer, done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

function openForUpdate(path: string): number {
  try {
    return openSync(path, "r+");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    return openSync(path, "w+");
  }
}

function syncDirectory(directory: string): void {
  try {
    const fd = openSync(directory, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // not supported everywhere (Windows); the segment's own fsync still holds its data
  }
}

function readTextOrEmpty(path: string): string {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return "";
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
