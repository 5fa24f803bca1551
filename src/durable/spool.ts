import { diag } from "@opentelemetry/api";
import type { Resource } from "@opentelemetry/resources";
import type { ReadableLogRecord } from "@opentelemetry/sdk-logs";
import {
  close,
  closeSync,
  fdatasync,
  fdatasyncSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  open,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { Cursor } from "./cursor.js";
import { encodeFrame, FRAME_HEADER, frameAt, nextValidFrame, sealFrame, type Damage } from "./framing.js";
import { SEGMENT_HEADER, segmentHeader, UnsupportedSpoolFormatError } from "./header.js";
import { SpoolLock } from "./lock.js";
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
import { scanSegment } from "./recovery.js";

/**
 * The on-disk spool: append-only segment files (a versioned header, then CRC-checked frames; see
 * header.ts and framing.ts), a cursor naming the first record not yet acknowledged, and a lock.
 * Synchronous on purpose: a record is in the kernel (or on disk, per fsync policy) once commit()
 * or writeGroup() returns.
 */

export type FsyncPolicy = "always" | "interval" | "never";

export interface SpoolOptions {
  directory: string;
  segmentBytes: number;
  fsync: FsyncPolicy;
  fsyncIntervalMillis: number;
}

/** Records read from one segment, `[start, end)` in bytes; `ends[i]` is the offset after record i. */
export interface SpoolBatch {
  seq: number;
  start: number;
  end: number;
  records: ReadableLogRecord[];
  ends: number[];
}

export interface DroppedSegment {
  /** Unacknowledged records it held, overflow records included. */
  records: number;
  bytes: number;
  /** How many of those were overflow records, and the drop counts they carried. */
  overflowRecords: number;
  carried: number;
}

/** What recovery found at open. */
export interface Recovered {
  records: number;
  segments: number;
  /** Bytes cut from segment ends (torn writes, damage at the end). */
  discardedBytes: number;
  /** Frames lost to damage (each resynchronised past; nothing after them lost). */
  damagedFrames: number;
  /** Segment files of another format or unreadable, left untouched. */
  unreadableSegments: string[];
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
  /** Bytes of header and valid frames. */
  size: number;
  records: number;
  ackedRecords: number;
  decoder: SegmentDecoder;
  readFd?: number;
  /** Overflow records in this segment: where, and how many lost records each reports. */
  overflow: Array<{ offset: number; carried: number }>;
  /** Damaged stretches the reader jumps over. */
  holes: Damage[];
}

/** What writeGroup() restores when a write fails. */
interface SpoolState {
  size: number;
  bytes: number;
  records: number;
  activeRecords: number;
  tail: number;
  tailBytes: number;
  tailOpen: boolean;
  written: Set<number>;
  overflow: number;
}

/** Recent records kept in memory, so exporting them needs no read and decode from disk. */
const TAIL_RECORDS = 4096;
const TAIL_BYTES = 8 << 20;
const SEGMENT_PREFIX = "segment-";
const SEGMENT_SUFFIX = ".seg";
const READ_CHUNK = 1 << 20;

export class Spool {
  readonly directory: string;
  readonly #opts: SpoolOptions;
  readonly #shared = new SharedDictionary();
  readonly #segments: Segment[] = [];
  readonly #lock: SpoolLock;
  readonly #cursor: Cursor;
  #active!: Segment;
  #writeFd = -1;
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
  /** An interval fdatasync is running on the thread pool. */
  #syncing = false;
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
  /** While writeGroup() runs: frames gather here and go to disk with one write per segment. */
  #group: { start: SpoolState; records: number; written: number } | undefined;
  #groupBuffer = Buffer.allocUnsafe(0);
  #groupLength = 0;

  readonly recovered: Recovered = { records: 0, segments: 0, discardedBytes: 0, damagedFrames: 0, unreadableSegments: [] };
  /** Frames found damaged while reading, after recovery (the disk changed under us). */
  damagedWhileReading = 0;

  constructor(options: SpoolOptions) {
    this.#opts = options;
    this.directory = options.directory;
    mkdirSync(this.directory, { recursive: true });
    this.#lock = new SpoolLock(this.directory);
    this.#lock.acquire();
    this.#cursor = new Cursor(this.directory);
    try {
      if (this.#lock.takenOver) {
        diag.warn(`otel-auth-audit: took over the spool ${this.directory} from process ${this.#lock.takenOver.pid}, which no longer holds it`);
      }
      this.#recover();
      this.#openActive(this.#maxSeq + 1);
      if (options.fsync === "interval") {
        this.#timer = setInterval(() => this.#syncInBackground(), options.fsyncIntervalMillis);
        this.#timer.unref();
      }
    } catch (error) {
      this.#lock.release();
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

  /** Serialises a record into the scratch frame; returns (at most) the bytes commit() will add. */
  stage(record: ReadableLogRecord): number {
    const resource = this.#dict(record.resource, this.#resourceIds, FRAME_RESOURCE, encodeResource);
    const scope = this.#dict(record.instrumentationScope, this.#scopeIds, FRAME_SCOPE, encodeScope);
    this.#stagedDicts[0] = resource;
    this.#stagedDicts[1] = scope;
    this.#stagedRecord = record;
    const payload = encodeRecord(record, resource[0], scope[0]);
    const max = FRAME_HEADER + payload.length * 3;
    if (this.#scratch.length < max) this.#scratch = Buffer.allocUnsafe(max);
    this.#stagedLength = FRAME_HEADER + this.#scratch.write(payload, FRAME_HEADER);
    let bytes = this.#stagedLength;
    if (!this.#written.has(resource[0])) bytes += resource[1].length;
    if (!this.#written.has(scope[0])) bytes += scope[1].length;
    return bytes;
  }

  /**
   * Appends the staged frame, after the dictionary frames the segment lacks. Throws on I/O failure
   * (nothing of the frame stays on disk then).
   * `carried`: the staged record is an overflow record reporting that many lost records.
   */
  commit(carried?: number): void {
    if (this.#writeFd < 0) this.#openActive(this.#maxSeq + 1); // an earlier rotation failed half-way
    const length = this.#stagedLength;
    let total = length;
    // indexed loops, not iterators: this runs for every record, mostly before V8 optimises it
    const dicts = this.#stagedDicts;
    for (let i = 0; i < dicts.length; i++) if (!this.#written.has(dicts[i][0])) total += dicts[i][1].length;
    if (this.#active.size > SEGMENT_HEADER && this.#active.size + total > this.#opts.segmentBytes) {
      if (this.#group) this.#writeGroupFrames();
      this.#rotate();
      if (this.#group) this.#group.start = this.#state();
      return this.commit(carried);
    }
    const frame = this.#scratch;
    sealFrame(frame, FRAME_RECORD, length - FRAME_HEADER);
    const sizeBefore = this.#active.size;
    try {
      for (let i = 0; i < dicts.length; i++) {
        if (this.#written.has(dicts[i][0])) continue;
        const [id, dict, type, payload] = dicts[i];
        this.#write(dict, dict.length);
        this.#written.add(id);
        this.#active.decoder.define(type, payload); // the reader may start after this frame (tail, rewind)
      }
      if (carried !== undefined) this.#active.overflow.push({ offset: this.#active.size, carried });
      this.#write(frame, length);
    } catch (error) {
      // A partial frame would be damage on replay: cut it off.
      try {
        ftruncateSync(this.#writeFd, sizeBefore);
        this.#bytes -= this.#active.size - sizeBefore;
        this.#active.size = sizeBefore;
        this.#written = new Set(); // dictionary frames may have been cut too
        if (carried !== undefined && this.#active.overflow.at(-1)?.offset === sizeBefore) this.#active.overflow.pop();
      } catch {
        this.#abandonActive();
      }
      throw error;
    }
    this.#active.records++;
    this.#records++;
    this.#remember(sizeBefore);
    if (this.#group) this.#group.records++;
    else if (this.#opts.fsync === "always") fdatasyncSync(this.#writeFd);
    else this.#dirty = true;
  }

  /**
   * Stages and commits `records` in order, writing their frames with one call per segment instead
   * of one per record. Stops before a record that cannot be serialised or for which `fits(bytes)`
   * says no. Returns how many records are on disk; when a write fails, the frames not yet written
   * are cut back (the state too), and the caller appends the rest one by one, with its error policy.
   */
  writeGroup(records: readonly ReadableLogRecord[], fits: (bytes: number) => boolean): number {
    if (this.#writeFd < 0 || this.#opts.fsync === "always") return 0;
    const group = { start: this.#state(), records: 0, written: 0 };
    this.#group = group;
    try {
      for (const record of records) {
        let bytes: number;
        try {
          bytes = this.stage(record);
        } catch {
          break;
        }
        if (!fits(bytes)) break;
        this.commit();
      }
      this.#writeGroupFrames();
    } catch {
      this.#rollBack(group.start);
    } finally {
      this.#group = undefined;
      this.#groupLength = 0;
      this.#stagedRecord = undefined;
    }
    return group.written;
  }

  /** Writes the frames the group gathered (before a rotation, and at its end). */
  #writeGroupFrames(): void {
    const group = this.#group!;
    let done = 0;
    while (done < this.#groupLength) done += writeSync(this.#writeFd, this.#groupBuffer, done, this.#groupLength - done);
    this.#groupLength = 0;
    group.written += group.records;
    group.records = 0;
    group.start = this.#state();
    this.#dirty = true;
  }

  #state(): SpoolState {
    return {
      size: this.#active.size,
      bytes: this.#bytes,
      records: this.#records,
      activeRecords: this.#active.records,
      tail: this.#tail.length,
      tailBytes: this.#tailBytes,
      tailOpen: this.#tailOpen,
      written: new Set(this.#written),
      overflow: this.#active.overflow.length,
    };
  }

  /** Back to `state` of the active segment: the file cut to its size, and what was counted since undone. */
  #rollBack(state: SpoolState): void {
    try {
      ftruncateSync(this.#writeFd, state.size);
    } catch {
      this.#abandonActive();
    }
    this.#active.size = state.size;
    this.#bytes = state.bytes;
    this.#records = state.records;
    this.#active.records = state.activeRecords;
    this.#tail.length = state.tail;
    this.#tailBytes = state.tailBytes;
    this.#tailOpen = state.tailOpen;
    this.#written = state.written;
    this.#active.overflow.length = state.overflow;
  }

  /** Reads up to `max` records from the read position, within one segment. */
  read(max: number): SpoolBatch | undefined {
    for (;;) {
      const index = this.#segments.findIndex((s) => s.seq >= this.#readSeq);
      if (index < 0) return undefined;
      const segment = this.#segments[index];
      if (segment.seq !== this.#readSeq) {
        this.#readSeq = segment.seq;
        this.#readOffset = SEGMENT_HEADER;
      }
      if (this.#readOffset < SEGMENT_HEADER) this.#readOffset = SEGMENT_HEADER;
      if (this.#readOffset >= segment.size) {
        if (segment === this.#active) return undefined;
        this.#closeRead(segment);
        this.#readSeq = segment.seq + 1;
        this.#readOffset = SEGMENT_HEADER;
        continue;
      }
      const start = this.#readOffset;
      const cached = this.#fromTail(segment.seq, start, max);
      if (cached) return cached;
      const records: ReadableLogRecord[] = [];
      const ends: number[] = [];
      const end = this.#readFrames(segment, start, (type, payload, frameEnd) => {
        if (type === FRAME_RECORD) {
          records.push(segment.decoder.decode(payload));
          ends.push(frameEnd);
        } else segment.decoder.define(type, payload);
        return records.length < max;
      });
      this.#readOffset = end;
      if (records.length > 0) return { seq: segment.seq, start, end: ends[ends.length - 1], records, ends };
    }
  }

  /** Rewinds reading to the acknowledged position (after a failed export the batch is re-sent). */
  rewind(): void {
    this.#readSeq = this.#ackSeq;
    this.#readOffset = this.#ackOffset;
  }

  /** Marks a whole batch exported. */
  ack(batch: SpoolBatch): void {
    this.ackTo(batch.seq, batch.end, batch.records.length);
  }

  /**
   * Marks the `count` records of segment `seq` before offset `end` exported (or dead-lettered):
   * moves the cursor and deletes segments that are fully acknowledged.
   */
  ackTo(seq: number, end: number, count: number): void {
    const segment = this.#segments.find((s) => s.seq === seq);
    if (!segment) return; // dropped meanwhile
    if (seq < this.#ackSeq || (seq === this.#ackSeq && end <= this.#ackOffset)) return;
    segment.ackedRecords += count;
    this.#records -= count;
    this.#ackSeq = seq;
    this.#ackOffset = end;
    if (segment !== this.#active && end >= segment.size) {
      this.#ackSeq = segment.seq + 1;
      this.#ackOffset = SEGMENT_HEADER;
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
      this.#ackOffset = SEGMENT_HEADER;
    }
    if (inDropped(this.#readSeq)) {
      this.#readSeq = next;
      this.#readOffset = SEGMENT_HEADER;
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
    const ends: number[] = [];
    let end = start;
    while (i < this.#tail.length && records.length < max && this.#tail[i].seq === seq && this.#tail[i].start === end) {
      records.push(this.#tail[i].record);
      end = this.#tail[i].end;
      ends.push(end);
      i++;
    }
    this.#readOffset = end;
    return { seq, start, end, records, ends };
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
      const start = segment.seq === this.#ackSeq ? this.#ackOffset : SEGMENT_HEADER;
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

  /**
   * The interval's fdatasync, on libuv's thread pool: a synchronous one would stall every request
   * in flight for the disk's flush time (milliseconds) once per interval. It goes through a
   * descriptor of its own, so a rotation or close meanwhile never closes the one being synced;
   * Linux flushes the file's data whichever descriptor wrote it. A failure leaves the segment
   * dirty for the next interval (and for the synchronous sync of a rotation or close).
   */
  #syncInBackground(): void {
    if (!this.#dirty || this.#writeFd < 0 || this.#syncing) return;
    this.#dirty = false;
    this.#syncing = true;
    const failed = (error: NodeJS.ErrnoException) => {
      this.#syncing = false;
      // a segment removed meanwhile was acknowledged: nothing of it needs the disk any more
      if (error.code === "ENOENT") return;
      this.#dirty = true;
      diag.error("otel-auth-audit: spool fsync failed", error);
    };
    open(this.#active.path, "r+", (openError, fd) => {
      if (openError) return failed(openError);
      fdatasync(fd, (syncError) => {
        close(fd, () => {
          if (syncError) return failed(syncError);
          this.#syncing = false;
        });
      });
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    if (this.#syncing) this.#dirty = true; // close() does not return before the disk has it
    if (this.#opts.fsync !== "never") this.sync();
    for (const segment of this.#segments) this.#closeRead(segment);
    if (this.#writeFd >= 0) closeSync(this.#writeFd);
    this.#writeFd = -1;
    this.#cursor.close(this.#opts.fsync !== "never");
    // Nothing left to send: leave no segment behind (the next start opens its own).
    if (this.#records === 0) for (const segment of [...this.#segments]) this.#remove(segment);
    this.#lock.release();
  }

  #write(buffer: Buffer, length: number): void {
    if (this.#group) {
      if (this.#groupBuffer.length < this.#groupLength + length) {
        const grown = Buffer.allocUnsafe(Math.max(64 * 1024, 2 * (this.#groupLength + length)));
        this.#groupBuffer.copy(grown, 0, 0, this.#groupLength);
        this.#groupBuffer = grown;
      }
      this.#groupLength += buffer.copy(this.#groupBuffer, this.#groupLength, 0, length);
    } else {
      let done = 0;
      while (done < length) done += writeSync(this.#writeFd, buffer, done, length - done);
    }
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
      entry = [id, encodeFrame(type, payload), type, payload];
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
      this.#ackOffset = SEGMENT_HEADER;
      this.#writeCursor();
      this.#deleteAcknowledged();
    }
  }

  /** A write failed and could not be cut back: the next commit starts a new segment. */
  #abandonActive(): void {
    try {
      closeSync(this.#writeFd);
    } catch {
      // already unusable
    }
    this.#writeFd = -1;
  }

  #openActive(seq: number): void {
    const path = join(this.directory, segmentName(seq));
    this.#maxSeq = Math.max(this.#maxSeq, seq);
    const fd = openSync(path, "ax");
    const header = segmentHeader();
    try {
      writeSync(fd, header, 0, header.length);
    } catch (error) {
      closeSync(fd);
      unlinkSync(path);
      throw error;
    }
    this.#writeFd = fd;
    this.#active = {
      seq, path, size: SEGMENT_HEADER, records: 0, ackedRecords: 0, decoder: new SegmentDecoder(this.#shared), overflow: [], holes: [],
    };
    this.#segments.push(this.#active);
    this.#bytes += SEGMENT_HEADER;
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
   * returns the offset after the last frame visited. Jumps over known holes, and resynchronises
   * on the next valid frame after damage it meets (one more hole, counted).
   */
  #readFrames(segment: Segment, start: number, visit: (type: number, payload: string, end: number) => boolean): number {
    segment.readFd ??= openSync(segment.path, "r");
    let offset = start;
    while (offset < segment.size) {
      const hole = segment.holes.find((h) => h.start <= offset && offset < h.end);
      if (hole) {
        offset = hole.end;
        continue;
      }
      const limit = Math.min(segment.size, segment.holes.find((h) => h.start > offset)?.start ?? segment.size);
      const want = Math.min(limit - offset, this.#readBuffer.length);
      const got = readFully(segment.readFd, this.#readBuffer, want, offset);
      let pos = 0;
      let damaged = false;
      while (pos < got) {
        const at = frameAt(this.#readBuffer, pos, got);
        if (at.kind === "incomplete") break;
        if (at.kind === "bad") {
          damaged = true;
          break;
        }
        const payload = this.#readBuffer.toString("utf8", at.payloadStart, at.end);
        pos = at.end;
        if (!visit(at.type, payload, offset + pos)) return offset + pos;
      }
      if (damaged || (pos === 0 && got === limit - offset)) {
        // damage after recovery (or a frame cut by a hole): find the next valid frame from here
        this.#damaged(segment, offset + pos, limit);
        offset += pos;
        continue;
      }
      if (pos === 0) {
        // One frame larger than the buffer: grow and retry.
        const needed = (frameAt(this.#readBuffer, 0, got) as { needed?: number }).needed ?? got * 2;
        this.#readBuffer = Buffer.allocUnsafe(Math.max(needed, this.#readBuffer.length * 2));
        continue;
      }
      offset += pos;
    }
    return offset;
  }

  #damaged(segment: Segment, at: number, limit: number): void {
    const image = Buffer.allocUnsafe(limit - at);
    readFully(segment.readFd!, image, image.length, at);
    const next = at + nextValidFrame(image, 0, image.length);
    segment.holes.push({ start: at, end: next });
    segment.holes.sort((a, b) => a.start - b.start);
    this.damagedWhileReading++;
    diag.error(`otel-auth-audit: damaged frame in spool segment ${segment.path} at byte ${at}; ${next - at} bytes skipped, reading resumes at the next valid frame`);
  }

  #recover(): void {
    const cursor = this.#cursor.read();
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
      let scanned: ReturnType<typeof scanSegment>;
      const image = readFileSync(path);
      try {
        scanned = scanSegment(image, path, cursor && cursor.seq === seq ? cursor.offset : 0);
      } catch (error) {
        if (!(error instanceof UnsupportedSpoolFormatError)) throw error;
        diag.error(error.message);
        this.recovered.unreadableSegments.push(path);
        continue;
      }
      if (scanned.cutBytes > 0) {
        diag.warn(`otel-auth-audit: spool segment ${path} ends in ${scanned.cutBytes} bytes of an incomplete frame (a crash while writing) or of damage; they are cut off`);
      }
      if (scanned.damagedFrames > (scanned.cutBytes > 0 ? 1 : 0)) {
        diag.error(
          `otel-auth-audit: spool segment ${path}: ${scanned.damagedFrames} damaged frame(s) skipped` +
            (scanned.cutBytes ? ` (${scanned.cutBytes} bytes cut from its end)` : "") +
            `; the ${scanned.records} intact records around them are kept`,
        );
      }
      this.recovered.damagedFrames += scanned.damagedFrames;
      this.recovered.discardedBytes += scanned.cutBytes + scanned.holes.reduce((n, h) => n + h.end - h.start, 0);
      if (scanned.cutBytes > 0 || scanned.damagedHeader) repair(path, image, scanned.size, scanned.damagedHeader);
      const segment: Segment = {
        seq, path, size: scanned.size, records: scanned.records, ackedRecords: scanned.ackedRecords,
        decoder: new SegmentDecoder(this.#shared), overflow: scanned.overflow, holes: scanned.holes,
      };
      for (const d of scanned.dictionary) segment.decoder.define(d.type, d.payload);
      if (segment.records - segment.ackedRecords === 0) {
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
      this.#ackOffset = Math.max(SEGMENT_HEADER, Math.min(cursor.offset, first.size));
    } else {
      this.#ackSeq = first ? first.seq : 0;
      this.#ackOffset = SEGMENT_HEADER;
    }
    this.#readSeq = this.#ackSeq;
    this.#readOffset = this.#ackOffset;
    this.#writeCursor();
  }

  #writeCursor(): void {
    this.#cursor.write({ seq: this.#ackSeq, offset: this.#ackOffset });
  }
}

/** Cuts a damaged end, and rewrites a damaged header, so the file reads clean next time. */
function repair(path: string, image: Buffer, size: number, header: boolean): void {
  const fd = openSync(path, "r+");
  try {
    if (size < image.length) ftruncateSync(fd, size);
    if (header) writeSync(fd, segmentHeader(), 0, SEGMENT_HEADER, 0);
  } finally {
    closeSync(fd);
  }
}

function segmentName(seq: number): string {
  return `${SEGMENT_PREFIX}${String(seq).padStart(10, "0")}${SEGMENT_SUFFIX}`;
}

/** Segment files in a directory (for finding stranded spools). */
export function hasSegments(directory: string): boolean {
  try {
    return readdirSync(directory).some((f) => f.startsWith(SEGMENT_PREFIX) && f.endsWith(SEGMENT_SUFFIX));
  } catch {
    return false;
  }
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
