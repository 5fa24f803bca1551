/**
 * The parallel verifier's fast path: OTLP JSON lines of the common shape read straight from their
 * UTF-8 bytes, each record's canonical form (src/chain/canonical.ts) written from those bytes into
 * the HMAC's buffer, with no JSON.parse, no object per value and no string per record.
 *
 * It takes only what it can read exactly and leaves the rest to the exact path (./chunk.ts):
 * - the scanner reads compact JSON (no whitespace inside a line), keys of printable ASCII without
 *   escapes, strings without escapes or control characters (other bytes are copied as they are:
 *   the chunk is valid UTF-8, so they decode and re-encode to themselves), and checks every
 *   number and literal it passes against the JSON grammar;
 * - an AnyValue is taken when it is one `stringValue`, `boolValue` or plain `intValue`; any other
 *   (doubles, bytes, arrays, maps, malformed ones) is cut out, parsed and written by `otlpValue`;
 * - anything else in a record (a duplicated field or key, an unchained audit record, a checkpoint,
 *   a hash that does not match, an odd field type) sends that record through JSON.parse and the
 *   exact path; anything else in a line sends the line there (`line` answers false).
 * Members the canonical form does not cover are checked (JSON.parse of their text where it is not
 * a plain scalar), so a line is taken only when the whole of it is JSON.
 */
import { otlpBody, otlpValue, type OtlpLogRecord } from "../chain/canonical.js";
import { CHAIN_ATTR, CHECKPOINT_EVENT } from "../chain/format.js";
import { HMAC_MESSAGE_AT } from "../chain/keys.js";
import { type ChunkRecords, isObject, nestedDuplicate, onRecord } from "./chunk.js";

const FAIL = -1;
const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const COLON = 58;
const OPEN = 123; // {
const CLOSE = 125; // }
const OPEN_LIST = 91; // [
const CLOSE_LIST = 93; // ]
const MINUS = 45;
const ZERO = 48;
const NINE = 57;

const bytes = (s: string) => Buffer.from(s, "latin1");

/** Text the scanner expects at a position, with its bytes as little-endian 32-bit words too (compared four at a time). */
interface Lit {
  bytes: Buffer;
  words: Int32Array;
  length: number;
}
const lit = (s: string): Lit => words(bytes(s));
function words(b: Buffer): Lit {
  const w = new Int32Array(b.length >> 2);
  for (let i = 0; i < w.length; i++) w[i] = b.readInt32LE(i * 4);
  return { bytes: b, words: w, length: b.length };
}
const TOP = lit('{"resourceLogs":[');
const KEY = lit('{"key":');
const VALUE = lit(',"value":');
const STRING_VALUE = lit('{"stringValue":');
const INT_VALUE = lit('{"intValue":');
const BOOL_TRUE = lit('{"boolValue":true}');
const BOOL_FALSE = lit('{"boolValue":false}');
const TRUE = lit("true");
const FALSE = lit("false");
const NULL = lit("null");
const OUT_ATTRIBUTES = lit('{"attributes":{');
const OUT_BODY = lit(',"body":');
const OUT_EVENT = lit(',"eventName":');
const OUT_SEVERITY_NUMBER = lit(',"severityNumber":');
const OUT_SEVERITY_TEXT = lit(',"severityText":');
const OUT_TIMESTAMP = lit(',"timestamp":"');
const OUT_END = lit('"}');
const CHECKPOINT = lit(JSON.stringify(CHECKPOINT_EVENT));

/** Keys the scanner acts on, interned first so their ids are these constants. */
const KNOWN = ["scopeLogs", "scope", "logRecords", "name", "timeUnixNano", "severityNumber", "severityText", "eventName", "body", "attributes", CHAIN_ATTR.id, CHAIN_ATTR.seq, CHAIN_ATTR.prev, CHAIN_ATTR.hash];
const [SCOPE_LOGS, SCOPE, LOG_RECORDS, NAME, TIME, SEVERITY_NUMBER, SEVERITY_TEXT, EVENT_NAME, BODY, ATTRIBUTES, CHAIN_ID, CHAIN_SEQ, CHAIN_PREV, CHAIN_HASH] = KNOWN.map((_, i) => i);
/** Distinct keys kept before the table starts over (memory stays bounded whatever the input). */
const MAX_KEYS = 4096;

// how a value was read: its canonical bytes are the input's [start, end), a literal, or a string
const STRING = 0; // a stringValue: its quoted text
const INT = 1; // an intValue: its digits
const IS_TRUE = 2;
const IS_FALSE = 3;
const TEXT = 4;
const NONE = 5;

/** Bytes that end a plain string's run: its closing quote (1), a backslash or a control character (2). */
const STRING_STOP = new Uint8Array(256);
for (let c = 0; c < 32; c++) STRING_STOP[c] = 2;
STRING_STOP[BACKSLASH] = 2;
STRING_STOP[QUOTE] = 1;

const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 16; i++) HEX["0123456789abcdef".charCodeAt(i)] = i;

export class LineScanner {
  #b: Buffer = Buffer.alloc(0);
  /** The same bytes as #b, read four at a time. */
  #view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  #end = 0;
  /** Where the last key or string ended. */
  #p = 0;
  #out!: ChunkRecords;
  #inScope = false;
  #scopeName = "";
  #o = Buffer.allocUnsafe(1 << 16);
  #oView = new DataView(this.#o.buffer, this.#o.byteOffset, this.#o.byteLength);

  // the interned keys: open addressing over FNV-1a of their bytes
  #slots = new Int32Array(MAX_KEYS * 2);
  #keys: Lit[] = [];
  /** The keys of the last record in order, and how many of this record's were read. */
  #lastKeys: number[] = [];
  #keyCount = 0;
  #keyHash: number[] = [];
  #keyText: string[] = [];
  #shapes = new Map<number, { ids: number[]; order: number[] | undefined }>();

  // the record being read: slot 0 is the body, 1… the attributes in input order
  #n = 0;
  #id: number[] = [];
  #kind: number[] = [];
  #start: number[] = [];
  #stop: number[] = [];
  #text: string[] = [];
  #texts = 0;
  #fields = 0;
  #time = -1;
  #timeEnd = 0;
  #severity = -1;
  #severityEnd = 0;
  #severityText = -1;
  #severityTextEnd = 0;
  #event = -1;
  #eventEnd = 0;
  #chainAt = 0;
  #chainEnd = 0;
  #lastChain = "";
  #lastChainBytes = Buffer.alloc(0);

  constructor(
    readonly hmac: (buf: Buffer, end: number, encoding: "hex" | "binary") => string,
    readonly inScope: (scope: string) => boolean,
  ) {
    this.#resetKeys();
  }

  /**
   * Reads the line at [start, end) of `b` into `out`. False: the line is not of the shape read
   * here, and the caller reads it with the exact path (after dropping what this added to `out`).
   */
  line(b: Buffer, start: number, end: number, out: ChunkRecords): boolean {
    if (b !== this.#b) {
      this.#b = b;
      this.#view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    }
    this.#end = end;
    this.#out = out;
    if (!this.#lit(start, TOP)) return false;
    let p = start + TOP.length;
    for (;;) {
      p = this.#resourceLogs(p);
      if (p < 0) return false;
      if (b[p] === COMMA) p++;
      else if (b[p] === CLOSE_LIST) break;
      else return false;
    }
    if (b[p + 1] !== CLOSE) return false;
    // the line may end in blanks (a CR of CRLF), nothing else
    for (p += 2; p < end; p++) if (b[p] !== 32 && b[p] !== 9 && b[p] !== 13) return false;
    return true;
  }

  #resourceLogs(p: number): number {
    const b = this.#b;
    if (b[p] !== OPEN) return FAIL;
    if (b[p + 1] === CLOSE) return p + 2;
    let seen = false;
    for (p++; ; p++) {
      const id = this.#member(p);
      if (id === FAIL) return FAIL;
      p = this.#p;
      if (id === SCOPE_LOGS) {
        if (seen) return FAIL;
        seen = true;
        p = this.#list(p, (q) => this.#scopeLogs(q));
      } else p = this.#skipValid(p);
      if (p < 0) return FAIL;
      if (b[p] === CLOSE) return p + 1;
      if (b[p] !== COMMA) return FAIL;
    }
  }

  #scopeLogs(p: number): number {
    const b = this.#b;
    if (b[p] !== OPEN) return FAIL;
    if (b[p + 1] === CLOSE) return p + 2;
    let scope = false;
    let records = false;
    for (p++; ; p++) {
      const id = this.#member(p);
      if (id === FAIL) return FAIL;
      p = this.#p;
      if (id === SCOPE) {
        if (scope) return FAIL;
        scope = true;
        p = this.#scope(p);
      } else if (id === LOG_RECORDS) {
        // the scope must be known before its records (it comes first in every exporter's JSON)
        if (records || !scope) return FAIL;
        records = true;
        p = this.#list(p, (q) => this.#record(q));
      } else p = this.#skipValid(p);
      if (p < 0) return FAIL;
      if (b[p] === CLOSE) return p + 1;
      if (b[p] !== COMMA) return FAIL;
    }
  }

  #scope(p: number): number {
    const b = this.#b;
    if (b[p] !== OPEN) return FAIL;
    let name: string | undefined;
    if (b[p + 1] === CLOSE) p += 2;
    else {
      for (p++; ; p++) {
        const id = this.#member(p);
        if (id === FAIL) return FAIL;
        p = this.#p;
        if (id === NAME) {
          if (name !== undefined || b[p] !== QUOTE) return FAIL;
          const q = this.#string(p);
          if (q < 0) return FAIL;
          name = b.toString("utf8", p + 1, q - 1);
          p = q;
        } else p = this.#skipValid(p);
        if (p < 0) return FAIL;
        if (b[p] === CLOSE) {
          p++;
          break;
        }
        if (b[p] !== COMMA) return FAIL;
      }
    }
    this.#scopeName = name ?? "";
    this.#inScope = this.inScope(this.#scopeName);
    return p;
  }

  /** `[` item, … `]`; the position after it. */
  #list(p: number, item: (p: number) => number): number {
    const b = this.#b;
    if (b[p] !== OPEN_LIST) return FAIL;
    if (b[p + 1] === CLOSE_LIST) return p + 2;
    for (p++; ; p++) {
      p = item(p);
      if (p < 0) return FAIL;
      if (b[p] === CLOSE_LIST) return p + 1;
      if (b[p] !== COMMA) return FAIL;
    }
  }

  /** One log record: read here, or cut out and given to the exact path. */
  #record(start: number): number {
    this.#out.records++;
    const p = this.#fast(start);
    if (p >= 0) return p;
    const end = this.#skip(start);
    if (end < 0) return FAIL;
    let r: unknown;
    try {
      r = JSON.parse(this.#b.toString("utf8", start, end));
    } catch {
      return FAIL;
    }
    const out = this.#out;
    const why = isObject(r) ? onRecord(r as OtlpLogRecord, this.#scopeName, out, this.#hex, this.inScope) : "a log record that is not an object";
    if (why) {
      out.unusual = why;
      return FAIL;
    }
    return end;
  }

  #hex = (canonical: string): string => {
    const o = this.#room(HMAC_MESSAGE_AT + canonical.length * 3);
    const n = o.write(canonical, HMAC_MESSAGE_AT, "utf8");
    return this.hmac(o, HMAC_MESSAGE_AT + n, "hex");
  };

  /** A record of the common shape, written, hashed and taken; FAIL for anything else. */
  #fast(p: number): number {
    const b = this.#b;
    const start = p;
    if (b[p] !== OPEN || b[p + 1] === CLOSE) return FAIL;
    if (this.#keyText.length > MAX_KEYS - 256) this.#resetKeys();
    this.#keyCount = 0;
    this.#n = 1;
    this.#kind[0] = NONE;
    this.#texts = 0;
    this.#fields = 0;
    this.#time = this.#severity = this.#severityText = this.#event = -1;
    for (p++; ; p++) {
      const id = this.#member(p);
      if (id === FAIL) return FAIL;
      p = this.#p;
      if (id <= ATTRIBUTES && id >= TIME) {
        // a field of the canonical form given twice: JSON.parse would keep the last, so the exact path reads it
        if (this.#fields & (1 << id)) return FAIL;
        this.#fields |= 1 << id;
      }
      switch (id) {
        case TIME:
          if (b[p] !== QUOTE || (this.#timeEnd = this.#string(p)) < 0) return FAIL;
          this.#time = p + 1;
          p = this.#timeEnd--;
          break;
        case SEVERITY_NUMBER:
          if ((this.#severityEnd = this.#number(p)) < 0 || !this.#shortInt(p, this.#severityEnd) || b[p] === MINUS) return FAIL;
          this.#severity = p;
          p = this.#severityEnd;
          break;
        case SEVERITY_TEXT:
          if (b[p] !== QUOTE || (this.#severityTextEnd = this.#string(p)) < 0) return FAIL;
          this.#severityText = p;
          p = this.#severityTextEnd;
          break;
        case EVENT_NAME:
          if (b[p] !== QUOTE || (this.#eventEnd = this.#string(p)) < 0) return FAIL;
          this.#event = p;
          p = this.#eventEnd;
          break;
        case BODY:
          p = this.#value(p, 0, true);
          break;
        case ATTRIBUTES:
          p = this.#attributes(p);
          break;
        default:
          p = this.#skipValid(p);
      }
      if (p < 0) return FAIL;
      if (b[p] === CLOSE) break;
      if (b[p] !== COMMA) return FAIL;
    }
    return this.#take(p + 1 - start) ? p + 1 : FAIL;
  }

  /** `[` attribute, … `]` (as #list, without a closure per record). */
  #attributes(p: number): number {
    const b = this.#b;
    if (b[p] !== OPEN_LIST) return FAIL;
    if (b[p + 1] === CLOSE_LIST) return p + 2;
    for (p++; ; p++) {
      p = this.#attribute(p);
      if (p < 0) return FAIL;
      if (b[p] === CLOSE_LIST) return p + 1;
      if (b[p] !== COMMA) return FAIL;
    }
  }

  /** `{"key":"…","value":…}` into the next slot. */
  #attribute(p: number): number {
    const b = this.#b;
    if (!this.#lit(p, KEY)) return FAIL;
    p += KEY.length;
    const id = this.#key(p);
    if (id === FAIL || !this.#lit(this.#p, VALUE)) return FAIL;
    const i = this.#n++;
    this.#id[i] = id;
    p = this.#value(this.#p + VALUE.length, i, false);
    if (p < 0 || b[p] !== CLOSE) return FAIL;
    return p + 1;
  }

  /** An AnyValue into slot i: one plain field read here, anything else through `otlpValue`. */
  #value(p: number, i: number, body: boolean): number {
    const b = this.#b;
    if (this.#lit(p, STRING_VALUE)) {
      const q = this.#string(p + STRING_VALUE.length);
      if (q > 0 && b[q] === CLOSE) return this.#raw(i, STRING, p + STRING_VALUE.length, q, q + 1);
    } else if (this.#lit(p, INT_VALUE)) {
      // 12 or "12" of at most 15 digits, no leading zero, not -0: its digits are its canonical form
      const at = p + INT_VALUE.length;
      if (b[at] === QUOTE) {
        const q = this.#string(at);
        if (q > 0 && b[q] === CLOSE && this.#shortInt(at + 1, q - 1)) return this.#raw(i, INT, at + 1, q - 1, q + 1);
      } else {
        const q = this.#number(at);
        if (q > 0 && b[q] === CLOSE && this.#shortInt(at, q)) return this.#raw(i, INT, at, q, q + 1);
      }
    } else if (this.#lit(p, BOOL_TRUE)) {
      this.#kind[i] = IS_TRUE;
      return p + BOOL_TRUE.length;
    } else if (this.#lit(p, BOOL_FALSE)) {
      this.#kind[i] = IS_FALSE;
      return p + BOOL_FALSE.length;
    }
    const end = this.#skip(p);
    if (end < 0) return FAIL;
    let v: unknown;
    try {
      v = JSON.parse(this.#b.toString("utf8", p, end));
    } catch {
      return FAIL;
    }
    if (nestedDuplicate(v as never)) return FAIL;
    const text = body ? otlpBody(v) : otlpValue(v as never);
    this.#kind[i] = text === undefined ? NONE : TEXT;
    this.#text[i] = text ?? "";
    this.#texts += text?.length ?? 0;
    return end;
  }

  #raw(i: number, kind: number, start: number, stop: number, next: number): number {
    this.#kind[i] = kind;
    this.#start[i] = start;
    this.#stop[i] = stop;
    return next;
  }

  /** The record read (`length` bytes of input): its keys checked, chain fields taken, canonical form written and hashed. */
  #take(length: number): boolean {
    const order = this.#order();
    if (!order) return false;
    let has = 0;
    let seq = 0;
    for (let i = 1; i < this.#n; i++) {
      const id = this.#id[i];
      if (id < CHAIN_ID || id > CHAIN_HASH) continue;
      has |= 1 << (id - CHAIN_ID);
      // the chain's own attributes only in their plain form; anything else is the exact path's
      if (id === CHAIN_SEQ) {
        if (this.#kind[i] !== INT) return false;
        seq = this.#digits(this.#start[i], this.#stop[i]);
        if (!(seq >= 1)) return false;
        continue;
      }
      if (this.#kind[i] !== STRING) return false;
      if (id === CHAIN_ID) {
        if (this.#stop[i] - this.#start[i] <= 2) return false;
        this.#chainAt = this.#start[i] + 1;
        this.#chainEnd = this.#stop[i] - 1;
      } else {
        this.#out.room();
        if (!this.#hexInto(this.#start[i] + 1, this.#stop[i] - 1, id === CHAIN_PREV ? this.#out.prevs : this.#out.hashes)) return false;
      }
    }
    // unchained: fine outside the audit scopes; an audit record without a chain is the exact path's to report
    if (has === 0) return !this.#inScope;
    if (has !== 15) return false;
    if (this.#event >= 0 && this.#eventEnd - this.#event === CHECKPOINT.length && this.#lit(this.#event, CHECKPOINT)) return false;
    const end = this.#write(order, length);
    const out = this.#out;
    const digest = this.hmac(this.#o, end, "binary");
    const at = out.n * 32;
    for (let i = 0; i < 32; i++) if (digest.charCodeAt(i) !== out.hashes[at + i]) return false;
    out.commit(this.#chain(), seq);
    return true;
  }

  /**
   * The canonical form into the HMAC's buffer; its end. Every part of it is at most as long as the
   * input it comes from (a key, a value copied, a literal shorter than the JSON it stands for), but
   * TEXT values (up to 3 bytes per UTF-16 unit) and the fixed punctuation (under 128 bytes).
   */
  #write(order: number[], length: number): number {
    const b = this.#b;
    const o = this.#room(HMAC_MESSAGE_AT + length + this.#texts * 3 + 128);
    let w = this.#put(OUT_ATTRIBUTES, HMAC_MESSAGE_AT);
    let first = true;
    const ids = this.#id;
    const keys = this.#keys;
    for (let k = 0; k < order.length; k++) {
      const i = order[k];
      const id = ids[i];
      if (id === CHAIN_HASH) continue;
      if (!first) o[w++] = COMMA;
      first = false;
      o[w++] = QUOTE;
      w = this.#put(keys[id], w);
      o[w++] = QUOTE;
      o[w++] = COLON;
      w = this.#writeValue(i, w);
    }
    o[w++] = CLOSE;
    if (this.#kind[0] !== NONE) {
      w = this.#put(OUT_BODY, w);
      w = this.#writeValue(0, w);
    }
    if (this.#event >= 0 && this.#eventEnd - this.#event > 2) {
      w = this.#put(OUT_EVENT, w);
      w = this.#copy(this.#event, this.#eventEnd, w);
    }
    if (this.#severity >= 0 && !(this.#severityEnd - this.#severity === 1 && b[this.#severity] === ZERO)) {
      w = this.#put(OUT_SEVERITY_NUMBER, w);
      w = this.#copy(this.#severity, this.#severityEnd, w);
    }
    if (this.#severityText >= 0 && this.#severityTextEnd - this.#severityText > 2) {
      w = this.#put(OUT_SEVERITY_TEXT, w);
      w = this.#copy(this.#severityText, this.#severityTextEnd, w);
    }
    w = this.#put(OUT_TIMESTAMP, w);
    if (this.#time < 0 || this.#timeEnd === this.#time) o[w++] = ZERO;
    else {
      // leading zeros off, the last digit kept (as otlpNanos)
      let t = this.#time;
      while (t < this.#timeEnd - 1 && b[t] === ZERO) t++;
      w = this.#copy(t, this.#timeEnd, w);
    }
    return this.#put(OUT_END, w);
  }

  #writeValue(i: number, w: number): number {
    const o = this.#o;
    switch (this.#kind[i]) {
      case STRING:
      case INT:
        return this.#copy(this.#start[i], this.#stop[i], w);
      case IS_TRUE:
        return this.#put(TRUE, w);
      case IS_FALSE:
        return this.#put(FALSE, w);
      default:
        return w + o.write(this.#text[i], w, "utf8");
    }
  }

  #room(size: number): Buffer {
    if (size > this.#o.length) {
      this.#o = Buffer.allocUnsafe(Math.max(size, this.#o.length * 2));
      this.#oView = new DataView(this.#o.buffer, this.#o.byteOffset, this.#o.byteLength);
    }
    return this.#o;
  }

  /**
   * Input bytes [start, end) into the output at w, four at a time; the end. A loop: most copies
   * are a few bytes, below Buffer.copy's call cost.
   */
  #copy(start: number, end: number, w: number): number {
    if (end - start > 64) return w + this.#b.copy(this.#o, w, start, end);
    const from = this.#view;
    const to = this.#oView;
    for (; start + 4 <= end; start += 4, w += 4) to.setInt32(w, from.getInt32(start, true), true);
    const b = this.#b;
    const o = this.#o;
    while (start < end) o[w++] = b[start++];
    return w;
  }

  /** `lit` into the output at w, four bytes at a time; the end. */
  #put(lit: Lit, w: number): number {
    const view = this.#oView;
    const words = lit.words;
    for (let i = 0; i < words.length; i++, w += 4) view.setInt32(w, words[i], true);
    const o = this.#o;
    const tail = lit.bytes;
    for (let i = words.length * 4; i < lit.length; i++) o[w++] = tail[i];
    return w;
  }

  /** The record's attribute slots sorted by key (as canonical.ts sorts), or undefined when a key repeats. */
  #order(): number[] | undefined {
    const n = this.#n;
    let h = n;
    for (let i = 1; i < n; i++) h = Math.imul(h ^ this.#id[i], 16777619);
    const cached = this.#shapes.get(h);
    if (cached && cached.ids.length === n - 1) {
      let same = true;
      for (let i = 1; i < n && same; i++) same = cached.ids[i - 1] === this.#id[i];
      if (same) return cached.order;
    }
    const ids = this.#id.slice(1, n);
    const text = this.#keyText;
    const order = ids.map((_, i) => i + 1).sort((x, y) => (text[this.#id[x]] < text[this.#id[y]] ? -1 : text[this.#id[x]] > text[this.#id[y]] ? 1 : 0));
    let duplicate = false;
    for (let i = 1; i < order.length; i++) if (this.#id[order[i]] === this.#id[order[i - 1]]) duplicate = true;
    const shape = { ids, order: duplicate ? undefined : order };
    if (this.#shapes.size > MAX_KEYS) this.#shapes.clear();
    this.#shapes.set(h, shape);
    return shape.order;
  }

  #chain(): string {
    const b = this.#b;
    const last = this.#lastChainBytes;
    let same = this.#chainEnd - this.#chainAt === last.length;
    for (let i = 0; same && i < last.length; i++) same = last[i] === b[this.#chainAt + i];
    if (!same) {
      this.#lastChain = b.toString("utf8", this.#chainAt, this.#chainEnd);
      this.#lastChainBytes = Buffer.from(b.subarray(this.#chainAt, this.#chainEnd));
    }
    return this.#lastChain;
  }

  /** 64 lower-case hex digits at [start, end) as 32 bytes at the record's slot of `into`. */
  #hexInto(start: number, end: number, into: Buffer): boolean {
    if (end - start !== 64) return false;
    const b = this.#b;
    let at = this.#out.n * 32;
    for (let i = start; i < end; i += 2) {
      const hi = HEX[b[i]];
      const lo = HEX[b[i + 1]];
      if (hi < 0 || lo < 0) return false;
      into[at++] = (hi << 4) | lo;
    }
    return true;
  }

  /** A key and its colon: its id, with #p after the colon. */
  #member(p: number): number {
    const id = this.#key(p);
    if (id === FAIL || this.#b[this.#p] !== COLON) return FAIL;
    this.#p++;
    return id;
  }

  /** A key of printable ASCII without escapes: its interned id, with #p after its closing quote. */
  #key(p: number): number {
    const b = this.#b;
    if (b[p] !== QUOTE) return FAIL;
    const start = p + 1;
    // records of one kind repeat their keys in order: try the key the last record had here first
    const k = this.#keyCount++;
    const guess = this.#lastKeys[k];
    if (guess !== undefined) {
      const known = this.#keys[guess];
      const len = known.length;
      if (start + len < this.#end && b[start + len] === QUOTE && this.#lit(start, known)) {
        this.#p = start + len + 1;
        return guess;
      }
    }
    const id = this.#keyAt(start);
    if (id !== FAIL) this.#lastKeys[k] = id;
    return id;
  }

  #keyAt(start: number): number {
    const b = this.#b;
    let p: number;
    let h = 2166136261 | 0;
    for (p = start; p < this.#end; p++) {
      const c = b[p];
      if (c === QUOTE) break;
      if (c < 32 || c > 126 || c === BACKSLASH) return FAIL;
      h = Math.imul(h ^ c, 16777619);
    }
    if (p >= this.#end) return FAIL;
    this.#p = p + 1;
    return this.#intern(b, start, p, h);
  }

  /** The id of the key at [start, end) of `b` (whose FNV-1a is h), interned if new. */
  #intern(b: Buffer, start: number, end: number, h: number): number {
    const slots = this.#slots;
    const mask = slots.length - 1;
    const len = end - start;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const v = slots[s];
      if (v === 0) {
        const id = this.#keyText.length;
        if (id >= MAX_KEYS) return FAIL;
        slots[s] = id + 1;
        this.#keys.push(words(Buffer.from(b.subarray(start, end))));
        this.#keyHash.push(h);
        this.#keyText.push(b.toString("latin1", start, end));
        return id;
      }
      const id = v - 1;
      const known = this.#keys[id].bytes;
      if (this.#keyHash[id] === h && known.length === len) {
        let i = 0;
        while (i < len && known[i] === b[start + i]) i++;
        if (i === len) return id;
      }
    }
  }

  #resetKeys(): void {
    this.#slots.fill(0);
    this.#keys = [];
    this.#keyHash = [];
    this.#keyText = [];
    this.#shapes.clear();
    this.#lastKeys = [];
    for (const k of KNOWN) {
      const kb = bytes(k);
      let h = 2166136261 | 0;
      for (const c of kb) h = Math.imul(h ^ c, 16777619);
      this.#intern(kb, 0, kb.length, h);
    }
  }

  /** A string without escapes or control characters: the position after its closing quote. */
  #string(p: number): number {
    const b = this.#b;
    const end = this.#end;
    const view = this.#view;
    // four bytes at a time while none is a quote, a backslash or below 0x20 (the "has a zero byte"
    // and "has a byte less than n" word tests; the exact stop is found byte by byte below)
    for (p++; p + 4 <= end; p += 4) {
      const x = view.getInt32(p, true);
      const quote = x ^ 0x22222222;
      const backslash = x ^ 0x5c5c5c5c;
      if ((((quote - 0x01010101) & ~quote) | ((backslash - 0x01010101) & ~backslash) | ((x - 0x20202020) & ~x)) & 0x80808080) break;
    }
    for (; p < end; p++) {
      const stop = STRING_STOP[b[p]];
      if (stop === 0) continue;
      return stop === 1 ? p + 1 : FAIL;
    }
    return FAIL;
  }

  /** A JSON number, checked against the grammar: the position after it. */
  #number(p: number): number {
    const b = this.#b;
    if (b[p] === MINUS) p++;
    if (b[p] === ZERO) p++;
    else if (isDigit(b[p])) while (isDigit(b[p])) p++;
    else return FAIL;
    if (b[p] === 46) {
      if (!isDigit(b[++p])) return FAIL;
      while (isDigit(b[p])) p++;
    }
    if (b[p] === 101 || b[p] === 69) {
      p++;
      if (b[p] === 43 || b[p] === MINUS) p++;
      if (!isDigit(b[p])) return FAIL;
      while (isDigit(b[p])) p++;
    }
    return p > this.#end ? FAIL : p;
  }

  /** [start, end) is `0` or `-?[1-9]\d{0,14}`: an integer whose digits are its canonical form. */
  #shortInt(start: number, end: number): boolean {
    const b = this.#b;
    if (b[start] === MINUS) start++;
    const n = end - start;
    if (n < 1 || n > 15) return false;
    if (b[start] === ZERO) return n === 1 && b[start - 1] !== MINUS;
    for (let i = start; i < end; i++) if (!isDigit(b[i])) return false;
    return true;
  }

  /** The value of the digits at [start, end) (a checked short integer; -1 when negative). */
  #digits(start: number, end: number): number {
    const b = this.#b;
    if (b[start] === MINUS) return -1;
    let n = 0;
    for (let i = start; i < end; i++) n = n * 10 + (b[i] - ZERO);
    return n;
  }

  /** Any JSON value, checked: scalars against the grammar, the rest by JSON.parse of its text. */
  #skipValid(p: number): number {
    const b = this.#b;
    const c = b[p];
    if (c === QUOTE) {
      const q = this.#string(p);
      if (q > 0) return q;
    } else if (c === MINUS || isDigit(c)) return this.#number(p);
    else if (c === 116) return this.#lit(p, TRUE) ? p + 4 : FAIL;
    else if (c === 102) return this.#lit(p, FALSE) ? p + 5 : FAIL;
    else if (c === 110) return this.#lit(p, NULL) ? p + 4 : FAIL;
    const end = this.#skip(p);
    if (end < 0) return FAIL;
    try {
      JSON.parse(b.toString("utf8", p, end));
    } catch {
      return FAIL;
    }
    return end;
  }

  /** The end of the JSON value at p, unchecked (its text is parsed by the caller). */
  #skip(p: number): number {
    const b = this.#b;
    const end = this.#end;
    const c = b[p];
    if (c !== OPEN && c !== OPEN_LIST && c !== QUOTE) {
      if (c === MINUS || isDigit(c)) return this.#number(p);
      for (const lit of [TRUE, FALSE, NULL]) if (this.#lit(p, lit)) return p + lit.length;
      return FAIL;
    }
    let depth = 0;
    while (p < end) {
      const x = b[p];
      if (x === QUOTE) {
        for (p++; p < end && b[p] !== QUOTE; p++) if (b[p] === BACKSLASH) p++;
        if (p >= end) return FAIL;
        if (depth === 0) return p + 1;
      } else if (x === OPEN || x === OPEN_LIST) depth++;
      else if (x === CLOSE || x === CLOSE_LIST) {
        if (--depth === 0) return p + 1;
      }
      p++;
    }
    return FAIL;
  }

  #lit(p: number, lit: Lit): boolean {
    const length = lit.length;
    if (p + length > this.#end) return false;
    const view = this.#view;
    const words = lit.words;
    for (let i = 0; i < words.length; i++) if (view.getInt32(p + i * 4, true) !== words[i]) return false;
    const b = this.#b;
    const tail = lit.bytes;
    for (let i = words.length * 4; i < length; i++) if (b[p + i] !== tail[i]) return false;
    return true;
  }
}


const isDigit = (c: number | undefined): boolean => c !== undefined && c >= ZERO && c <= NINE;
