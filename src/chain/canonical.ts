/**
 * The canonical form of a log record that the chain hash covers: RFC 8785 (JCS) JSON of
 * `{ attributes, body, eventName, severityNumber, severityText, timestamp }`, written straight
 * from either input form (the SDK's ReadableLogRecord or an OTLP JSON log record) in one pass, so
 * the processor and `verify` produce the same bytes without building an intermediate object.
 *
 * Value rules, identical for both forms: every distinction the OTLP wire makes is kept, so a
 * collector or an attacker that changes a value's type changes the hash.
 * - string and bool as JSON; an integer (SDK number that is an integer, as the OTLP transformer
 *   sends it as `intValue`; OTLP `intValue` 12 or "12") as its exact decimal digits, int64 strings
 *   read as BigInt, never through a double; a double (`doubleValue`) as `{"$double":"<ES text>"}`,
 *   "NaN"/"Infinity"/"-Infinity"/"-0" included; an intValue that is not an integer as
 *   `{"$int":"<text>"}`.
 * - bytes (Uint8Array / bytesValue) as `{"$bytes":"<base64>"}`; arrays as arrays; maps (an SDK
 *   object, OTLP kvlistValue) as `{"$kvlist":{…}}`, so no map can pose as a tagged value.
 * - null, undefined and the empty OTLP AnyValue `{}` as null; map keys sorted by UTF-16 units. A key
 *   that appears twice in OTLP input is written twice, so such a record never matches its hash.
 * - an OTLP AnyValue the wire cannot carry — two value fields (`{"stringValue":"a","intValue":1}`),
 *   a field of the wrong JSON type (`{"boolValue":"false"}`, `{"stringValue":["a"]}`), an unknown
 *   field, a map entry without a string key, a timestamp that is not digits — is written as
 *   `{"$malformed":null}`, which no SDK value gives: readers would disagree on what it says, so
 *   such a record never matches its hash.
 * - eventName, severityText "" / absent, severityNumber 0 / absent and a null body are left out,
 *   as the collector's JSON leaves them out; timestamp is nanoseconds since the epoch as a string.
 * Not covered: resource, scope, observed time, trace context: collectors legitimately rewrite them.
 */
import type { AnyValue, Attributes, HrTime } from "@opentelemetry/api";
import { bareObject } from "../safe-keys.js";

/** What both forms have in common, for the canonical form. */
export interface SdkRecordLike {
  readonly hrTime: HrTime;
  readonly eventName?: string;
  readonly severityNumber?: number;
  readonly severityText?: string;
  readonly body?: AnyValue;
  readonly attributes: Attributes;
}

/** An OTLP/JSON AnyValue as written by the JS SDK (`intValue: 3`) or the collector (`intValue: "3"`). */
export interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number | string | null;
  bytesValue?: string;
  arrayValue?: { values?: OtlpAnyValue[] };
  kvlistValue?: { values?: OtlpKeyValue[] };
}

export interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}

export interface OtlpLogRecord {
  timeUnixNano?: string | number;
  observedTimeUnixNano?: string | number;
  severityNumber?: number | string;
  severityText?: string;
  body?: OtlpAnyValue;
  eventName?: string;
  attributes?: OtlpKeyValue[];
  droppedAttributesCount?: number;
  flags?: number;
  traceId?: string;
  spanId?: string;
}

/** JCS of a plain JSON value (checkpoint statements, tests). */
export function jcs(value: unknown): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return Number.isFinite(value) ? String(value) : "null";
    case "boolean":
      return value ? "true" : "false";
    case "object": {
      if (value === null) return "null";
      if (Array.isArray(value)) return "[" + value.map(jcs).join(",") + "]";
      const o = value as Record<string, unknown>;
      const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
      return "{" + keys.map((k) => JSON.stringify(k) + ":" + jcs(o[k])).join(",") + "}";
    }
    default:
      return "null";
  }
}

/** Nanoseconds since the epoch of an HrTime, as a decimal string without floating-point loss. */
export function hrTimeToNanos(hrTime: HrTime): string {
  const seconds = hrTime[0];
  const ns = Math.round(hrTime[1]);
  if (seconds === 0) return String(ns);
  // nine digits: those of 1e9 + ns after its leading 1 (cheaper than padStart before V8 optimises this)
  return String(seconds) + (ns >= 0 && ns < 1e9 ? String(1e9 + ns).slice(1) : String(ns).padStart(9, "0"));
}

/**
 * The canonical form of an SDK record, leaving out the attribute `omit` (the chain hash itself).
 */
export function canonicalFromSdk(record: SdkRecordLike, omit: string): string {
  const attrs = record.attributes;
  const shape = shapeOf(Object.keys(attrs), omit);
  const keys = shape.keys;
  let out = '{"attributes":{';
  let first = true;
  for (let i = 0; i < keys.length; i++) {
    const v = attrs[keys[i]];
    if (v === undefined) continue;
    // names are quoted once per shape; a string (most values) is written without a call of ours
    out += (first ? shape.first[i] : shape.next[i]) + (typeof v === "string" ? JSON.stringify(v) : sdkValue(v));
    first = false;
  }
  out += "}";
  const body = record.body;
  if (body !== undefined && body !== null) out += ',"body":' + sdkValue(body);
  return out + tail(record.eventName, record.severityNumber, record.severityText, hrTimeToNanos(record.hrTime));
}

/** Attribute names sorted, without `omit`; each one's JSON and `:`, without and with a `,` before. */
interface Shape {
  keys: string[];
  first: string[];
  next: string[];
}

/** Records of one kind have the same attribute names in the same order: each such list is worked out once. */
const shapes = new Map<string, Shape>();
let lastKeys: string[] = [];
let lastOmit = "";
let lastShape: Shape = { keys: [], first: [], next: [] };
function shapeOf(keys: string[], omit: string): Shape {
  // fast path: the same names as the previous record (most records of a pipeline share a shape)
  if (keys.length === lastKeys.length && omit === lastOmit) {
    let same = true;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] !== lastKeys[i]) {
        same = false;
        break;
      }
    }
    if (same) return lastShape;
  }
  // the list's JSON text as the id: no two lists share one, whatever characters the names hold
  const id = JSON.stringify(keys) + omit;
  let shape = shapes.get(id);
  if (!shape) {
    const sorted = keys.filter((k) => k !== omit).sort();
    shape = { keys: sorted, first: sorted.map((k) => JSON.stringify(k) + ":"), next: sorted.map((k) => "," + JSON.stringify(k) + ":") };
    if (shapes.size > 1000) shapes.clear();
    shapes.set(id, shape);
  }
  lastKeys = keys;
  lastOmit = omit;
  lastShape = shape;
  return shape;
}

function tail(eventName: string | undefined, severityNumber: number | undefined, severityText: string | undefined, nanos: string): string {
  let out = "";
  if (eventName) out += ',"eventName":' + JSON.stringify(eventName);
  if (severityNumber) out += ',"severityNumber":' + num(severityNumber);
  if (severityText) out += ',"severityText":' + JSON.stringify(severityText);
  return out + ',"timestamp":"' + nanos + '"}';
}

const num = (n: number): string => (Number.isFinite(n) ? String(n) : "null");

/** An integer as the OTLP transformer sends it (`intValue`): its exact decimal digits. */
const intText = (n: number): string => {
  // JSON (so the wire) writes the shortest digits of a large double, e.g. 2^60 as …606846976 → …606847000
  const text = String(n);
  return text.includes("e") ? BigInt(n).toString() : text;
};
const double = (n: number): string => '{"$double":"' + (Object.is(n, -0) ? "-0" : String(n)) + '"}';

/** An SDK value, typed as the OTLP transformer will put it on the wire. */
function sdkValue(v: AnyValue | unknown): string {
  switch (typeof v) {
    case "string":
      return JSON.stringify(v);
    case "number":
      return Number.isInteger(v) ? intText(v) : double(v);
    case "boolean":
      return v ? "true" : "false";
    case "object": {
      if (v === null) return "null";
      if (Array.isArray(v)) {
        let out = "[";
        for (let i = 0; i < v.length; i++) out += (i ? "," : "") + sdkValue(v[i]);
        return out + "]";
      }
      if (v instanceof Uint8Array) return bytes(Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64"));
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o).sort();
      let out = '{"$kvlist":{';
      for (let i = 0; i < keys.length; i++) out += (i ? "," : "") + JSON.stringify(keys[i]) + ":" + sdkValue(o[keys[i]]);
      return out + "}}";
    }
    default:
      // undefined, functions, symbols, BigInt: the OTLP transformer writes an empty AnyValue
      return "null";
  }
}

const bytes = (b64: string): string => '{"$bytes":' + JSON.stringify(b64) + "}";

/** The canonical form of an OTLP JSON log record, leaving out the attribute `omit`. */
export function canonicalFromOtlp(record: OtlpLogRecord, omit: string): string {
  let out = '{"attributes":' + otlpMap(record.attributes, omit);
  const body = otlpBody(record.body);
  if (body !== undefined) out += ',"body":' + body;
  return (
    out +
    tail(record.eventName, otlpSeverityNumber(record.severityNumber), record.severityText, otlpNanos(record.timeUnixNano))
  );
}

/** A body's canonical value, or undefined when the canonical form leaves it out (absent, null, `{}`). */
export function otlpBody(body: unknown): string | undefined {
  return body && !isEmptyAnyValue(body as OtlpAnyValue) ? otlpValue(body as OtlpAnyValue) : undefined;
}

function isEmptyAnyValue(v: OtlpAnyValue): boolean {
  for (const k in v) if ((v as Record<string, unknown>)[k] !== undefined) return false;
  return true;
}

const MALFORMED = '{"$malformed":null}';

function otlpMap(values: OtlpKeyValue[] | undefined, omit: string | undefined): string {
  if (values === undefined || values === null) return "{}";
  if (!Array.isArray(values)) return MALFORMED;
  if (values.length === 0) return "{}";
  // stable sort: a duplicated key is written twice, so the record cannot match an SDK hash
  const kvs = omit === undefined ? values.slice() : values.filter((kv) => kv?.key !== omit);
  for (const kv of kvs) if (kv === null || typeof kv !== "object" || typeof kv.key !== "string") return MALFORMED;
  kvs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  let out = "{";
  for (let i = 0; i < kvs.length; i++) out += (i ? "," : "") + JSON.stringify(kvs[i].key) + ":" + otlpValue(kvs[i].value);
  return out + "}";
}

/**
 * One OTLP AnyValue in canonical JSON. Exactly one value field of its proto type may be set (a
 * null field counts as unset, as in protojson); anything else is MALFORMED.
 */
export function otlpValue(v: OtlpAnyValue | undefined | null): string {
  if (v === undefined || v === null) return "null";
  if (typeof v !== "object" || Array.isArray(v)) return MALFORMED;
  let field: string | undefined;
  for (const k in v) {
    const x = (v as Record<string, unknown>)[k];
    if (x === undefined || x === null) continue;
    if (field !== undefined) return MALFORMED;
    field = k;
  }
  switch (field) {
    case undefined:
      return "null";
    case "stringValue":
      return typeof v.stringValue === "string" ? JSON.stringify(v.stringValue) : MALFORMED;
    case "boolValue":
      return v.boolValue === true ? "true" : v.boolValue === false ? "false" : MALFORMED;
    case "intValue":
      return otlpInt(v.intValue);
    case "doubleValue":
      return otlpDouble(v.doubleValue);
    case "bytesValue":
      return typeof v.bytesValue === "string" ? bytes(v.bytesValue) : MALFORMED;
    case "arrayValue": {
      const values = listOf(v.arrayValue);
      if (values === undefined) return MALFORMED;
      let out = "[";
      for (let i = 0; i < values.length; i++) out += (i ? "," : "") + otlpValue(values[i] as OtlpAnyValue);
      return out + "]";
    }
    case "kvlistValue": {
      const values = listOf(v.kvlistValue);
      return values === undefined ? MALFORMED : '{"$kvlist":' + otlpMap(values as OtlpKeyValue[], undefined) + "}";
    }
    default:
      return MALFORMED;
  }
}

/** The string of an AnyValue that is exactly one `stringValue` (the chain's own attributes), else undefined. */
export function otlpString(v: OtlpAnyValue | undefined | null): string | undefined {
  return typeof v?.stringValue === "string" && otlpValue(v) !== MALFORMED ? v.stringValue : undefined;
}

/** The `values` of an ArrayValue / KeyValueList: an object whose `values` is absent or a list. */
function listOf(container: unknown): unknown[] | undefined {
  if (typeof container !== "object" || container === null || Array.isArray(container)) return undefined;
  const values = (container as { values?: unknown }).values;
  if (values === undefined || values === null) return [];
  return Array.isArray(values) ? values : undefined;
}

const INT = /^-?\d+$/;
/** Already in canonical form: no leading zero, at most 16 digits (the common case, no BigInt needed). */
const SHORT_INT = /^-?(?:0|[1-9]\d{0,15})$/;

/** int64 as exact digits: strings through BigInt, never through a double. */
function otlpInt(i: unknown): string {
  if (typeof i === "number" && Number.isInteger(i)) return intText(i);
  if (typeof i === "string" && SHORT_INT.test(i)) return i === "-0" ? "0" : i;
  if (typeof i === "string" && INT.test(i)) return BigInt(i).toString();
  return '{"$int":' + JSON.stringify(String(i)) + "}";
}

/** protojson writes NaN and the infinities as strings; JS JSON writes them as null (lost). */
function otlpDouble(d: unknown): string {
  if (typeof d === "number") return double(d);
  if (d === "NaN" || d === "Infinity" || d === "-Infinity") return '{"$double":"' + d + '"}';
  if (typeof d !== "string") return MALFORMED; // [1.5] or {"v":1.5} would print like 1.5
  if (d.trim() !== "" && !Number.isNaN(Number(d))) return double(Number(d));
  return '{"$double":' + JSON.stringify(d) + "}";
}

/** An OTLP AnyValue as the plain JS value the SDK would have held (readers, redaction of read-back data). */
export function fromOtlpValue(v: OtlpAnyValue | undefined | null): AnyValue {
  if (v === undefined || v === null) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return typeof v.doubleValue === "number" ? v.doubleValue : null;
  if (v.bytesValue !== undefined) return new Uint8Array(Buffer.from(v.bytesValue, "base64"));
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(fromOtlpValue);
  if (v.kvlistValue !== undefined) {
    // prototype-free: a `__proto__` key in a tampered file stays a plain key
    const out = bareObject<AnyValue>();
    for (const kv of v.kvlistValue.values ?? []) out[kv.key] = fromOtlpValue(kv.value);
    return out;
  }
  return null;
}

function otlpNanos(t: string | number | undefined): string {
  if (t === undefined || t === null || t === "") return "0";
  if (typeof t === "number") return Number.isFinite(t) ? BigInt(Math.trunc(t)).toString() : "$malformed";
  if (typeof t !== "string") return "$malformed";
  let i = 0;
  while (i < t.length - 1 && t.charCodeAt(i) === 48) i++;
  return i ? t.slice(i) : t;
}

const SEVERITY_NAMES = [
  "UNSPECIFIED", "TRACE", "TRACE2", "TRACE3", "TRACE4", "DEBUG", "DEBUG2", "DEBUG3", "DEBUG4",
  "INFO", "INFO2", "INFO3", "INFO4", "WARN", "WARN2", "WARN3", "WARN4",
  "ERROR", "ERROR2", "ERROR3", "ERROR4", "FATAL", "FATAL2", "FATAL3", "FATAL4",
];

/** protojson may spell the enum by name (`SEVERITY_NUMBER_INFO`). */
function otlpSeverityNumber(n: number | string | undefined): number | undefined {
  if (typeof n !== "string") return n;
  const i = SEVERITY_NAMES.indexOf(n.replace(/^SEVERITY_NUMBER_/, ""));
  return i >= 0 ? i : Number(n) || undefined;
}
