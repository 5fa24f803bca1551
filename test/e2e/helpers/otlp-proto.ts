/**
 * A minimal decoder of OTLP/protobuf logs requests (ExportLogsServiceRequest), enough to read
 * what the collector's otlp_http exporter sends: resource and scope, log records with event name,
 * severity, body and attributes. Field numbers from opentelemetry-proto (logs/v1, common/v1).
 */
export type Value = string | number | boolean | bigint | Uint8Array | Value[] | { [key: string]: Value } | null;

export interface DecodedRecord {
  resource: Record<string, Value>;
  scope: { name?: string; version?: string };
  timeUnixNano?: bigint;
  severityNumber?: number;
  severityText?: string;
  eventName?: string;
  body?: Value;
  attributes: Record<string, Value>;
}

class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return result;
      shift += 7n;
    }
  }
  /** Every field of the message: [field number, wire type, value]. */
  *fields(): Generator<[number, number, bigint | Uint8Array]> {
    while (!this.done) {
      const tag = Number(this.varint());
      const field = tag >>> 3;
      const wire = tag & 7;
      if (wire === 0) yield [field, wire, this.varint()];
      else if (wire === 1) {
        const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getBigUint64(0, true);
        this.pos += 8;
        yield [field, wire, v];
      } else if (wire === 2) {
        const len = Number(this.varint());
        yield [field, wire, this.buf.subarray(this.pos, (this.pos += len))];
      } else if (wire === 5) {
        const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getUint32(0, true);
        this.pos += 4;
        yield [field, wire, BigInt(v)];
      } else throw new Error(`unsupported wire type ${wire}`);
    }
  }
}

const text = (b: Uint8Array): string => Buffer.from(b).toString("utf8");
const msg = (b: unknown) => new Reader(b as Uint8Array).fields();

function anyValue(b: Uint8Array): Value {
  for (const [f, , v] of msg(b)) {
    switch (f) {
      case 1:
        return text(v as Uint8Array);
      case 2:
        return v !== 0n;
      case 3: {
        const n = BigInt.asIntN(64, v as bigint);
        return Number.isSafeInteger(Number(n)) ? Number(n) : n;
      }
      case 4:
        return new DataView(new BigUint64Array([v as bigint]).buffer).getFloat64(0, true);
      case 5:
        return [...msg(v)].map(([, , x]) => anyValue(x as Uint8Array));
      case 6:
        return keyValues([...msg(v)].map(([, , x]) => x as Uint8Array));
      case 7:
        return v as Uint8Array;
    }
  }
  return null;
}

function keyValues(list: Uint8Array[]): Record<string, Value> {
  const out: Record<string, Value> = {};
  for (const kv of list) {
    let key = "";
    let value: Value = null;
    for (const [f, , v] of msg(kv)) {
      if (f === 1) key = text(v as Uint8Array);
      else if (f === 2) value = anyValue(v as Uint8Array);
    }
    out[key] = value;
  }
  return out;
}

/** The log records of one ExportLogsServiceRequest, with their resource and scope. */
export function decodeLogsRequest(buf: Uint8Array): DecodedRecord[] {
  const out: DecodedRecord[] = [];
  for (const [f1, , rl] of msg(buf)) {
    if (f1 !== 1) continue;
    let resource: Record<string, Value> = {};
    const scopeLogs: Uint8Array[] = [];
    for (const [f, , v] of msg(rl)) {
      if (f === 1) resource = keyValues([...msg(v)].filter(([n]) => n === 1).map(([, , x]) => x as Uint8Array));
      else if (f === 2) scopeLogs.push(v as Uint8Array);
    }
    for (const sl of scopeLogs) {
      const scope: DecodedRecord["scope"] = {};
      const records: Uint8Array[] = [];
      for (const [f, , v] of msg(sl)) {
        if (f === 1) for (const [sf, , sv] of msg(v)) {
          if (sf === 1) scope.name = text(sv as Uint8Array);
          else if (sf === 2) scope.version = text(sv as Uint8Array);
        }
        else if (f === 2) records.push(v as Uint8Array);
      }
      for (const r of records) {
        const rec: DecodedRecord = { resource, scope, attributes: {} };
        const attrs: Uint8Array[] = [];
        for (const [f, , v] of msg(r)) {
          if (f === 1) rec.timeUnixNano = v as bigint;
          else if (f === 2) rec.severityNumber = Number(v);
          else if (f === 3) rec.severityText = text(v as Uint8Array);
          else if (f === 5) rec.body = anyValue(v as Uint8Array);
          else if (f === 6) attrs.push(v as Uint8Array);
          else if (f === 12) rec.eventName = text(v as Uint8Array);
        }
        rec.attributes = keyValues(attrs);
        out.push(rec);
      }
    }
  }
  return out;
}
