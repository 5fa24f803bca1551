import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalFromOtlp, type OtlpLogRecord } from "../src/chain/canonical.js";
import { CHAIN_ATTR } from "../src/chain/format.js";
import { ChunkRecords, verifyLine } from "../src/verify/chunk.js";
import { recordHmac, verifyChunk } from "../src/verify/parallel-worker.js";
import { LineScanner } from "../src/verify/scan.js";
import { scopeFilter } from "../src/processors/scope.js";
import { SCOPE_NAME } from "../src/version.js";

// The parallel verifier's byte scanner must give, for every line, exactly what JSON.parse and the
// exact canonical form give: the same records, hashes and checkpoints, or the same refusal. And
// every canonical form it writes itself must be the exact one, byte for byte.

const hmac = recordHmac("scan-test-key");
const inScope = scopeFilter(undefined);
const HEX = "0123456789abcdef";
const hex64 = fc.array(fc.constantFrom(...HEX), { minLength: 64, maxLength: 64 }).map((a) => a.join(""));

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const text = fc.oneof(
  { weight: 6, arbitrary: fc.stringMatching(/^[ -!#-[\]-~]{0,12}$/) },
  fc.constantFrom("", "a", "sign-in:email", "é", "日本", "😀", 'q"uote', "back\\slash", "tab\t", "\u0001", "\u2028", "-0", "0", "012", "NaN"),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: "grapheme", maxLength: 6 }),
);
const intLike = fc.oneof(
  { weight: 4, arbitrary: fc.integer() },
  fc.integer().map(String),
  fc.constantFrom(0, -0, 1, -1, 2 ** 53 - 1, 2 ** 53 + 2, 2 ** 60, 1e21, 1.5, 999999999999999, 1000000000000000),
  fc.constantFrom("0", "-0", "12", "012", "-12", "9007199254740993", "99999999999999999999", "1.5", "1e3", "", " 1", "x"),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String),
);
const doubleLike = fc.oneof(fc.double(), fc.constantFrom("NaN", "Infinity", "-Infinity", "1.5", "-0", "abc", "", " ", 0, -0, 1e300));

const { v: anyValue } = fc.letrec<{ v: Json; kv: Json }>((tie) => ({
  v: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    { weight: 8, arbitrary: fc.record({ stringValue: text }) },
    { weight: 2, arbitrary: fc.record({ boolValue: fc.boolean() }) },
    { weight: 4, arbitrary: fc.record({ intValue: intLike as fc.Arbitrary<Json> }) },
    fc.record({ doubleValue: doubleLike as fc.Arbitrary<Json> }),
    fc.record({ bytesValue: fc.constantFrom("", "AQID", "not base64", "//==") }),
    fc.record({ arrayValue: fc.record({ values: fc.array(tie("v"), { maxLength: 3 }) }, { requiredKeys: [] }) }),
    fc.record({ kvlistValue: fc.record({ values: fc.array(tie("kv"), { maxLength: 3 }) }, { requiredKeys: [] }) }),
    // what the wire cannot carry: empty, null fields, two fields, wrong types, unknown fields, non-objects
    fc.constantFrom<Json>({}, { stringValue: null }, { stringValue: "a", intValue: 1 }, { boolValue: "false" }, { stringValue: ["a"] }, { intValue: true }, { other: 1 }, null, "s", 1, [], [1], true),
  ),
  kv: fc.oneof(
    { weight: 5, arbitrary: fc.record({ key: fc.constantFrom("a", "b", "x.y", "é", "A", "", "c", "d", "e"), value: tie("v") }, { requiredKeys: ["key"] }) },
    fc.constantFrom<Json>(null, 1, { key: 1 }, { value: { stringValue: "a" } }),
  ),
}));

const key = fc.oneof({ weight: 6, arbitrary: fc.stringMatching(/^[a-z._]{1,10}$/) }, fc.constantFrom("audit.action", "user.id", "z", "a", "B", "audit.chain.idx", "é", "key with space", 'q"k', "k\\b", ""), fc.string({ maxLength: 6 }));
const attribute = fc.oneof(
  { weight: 40, arbitrary: fc.record({ key, value: anyValue }) },
  { weight: 1, arbitrary: fc.record({ key }) },
  { weight: 1, arbitrary: fc.constantFrom<Json>(null, "x", { key: 1, value: { stringValue: "a" } }, { value: { stringValue: "a" }, key: "late" }, { key: "k", value: { stringValue: "a" }, extra: 1 }) },
);

/** A record: chained (with its exact hash, or a wrong one), partly chained or not chained, with hostile fields. */
const record = fc
  .record(
    {
      timeUnixNano: fc.oneof({ weight: 4, arbitrary: fc.stringMatching(/^0{0,3}[0-9]{1,19}$/) }, fc.constantFrom<Json>("1793491200001000000", "0001", "0", "", "abc", 17934912, null), fc.bigInt({ min: 0n, max: 2n ** 64n }).map(String)),
      observedTimeUnixNano: fc.constantFrom<Json>("1", 2, { x: [1, "}"] }, "a\\\"b"),
      severityNumber: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 24 }) }, fc.constantFrom<Json>(-1, -0, 1.5, 1e3, 1234567890123456, 2 ** 60, "SEVERITY_NUMBER_INFO", "WARN", "7", null)),
      severityText: fc.oneof({ weight: 4, arbitrary: text }, fc.constantFrom<Json>(5, null)),
      eventName: fc.oneof({ weight: 4, arbitrary: text }, fc.constantFrom<Json>("audit.checkpoint", 1, null)),
      body: anyValue,
      attributes: fc.array(attribute, { maxLength: 6 }),
      traceId: fc.constantFrom<Json>("0af7651916cd43dd8448eb211c80319c", ""),
    },
    { requiredKeys: [] },
  )
  .chain((r) =>
    fc.record({
      r: fc.constant(r),
      chain: fc.constantFrom("full", "full", "full", "full", "full", "full", "none", "partial", "odd"),
      seq: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 1, max: 2 ** 40 }) }, fc.constantFrom(0, -1, 2 ** 53 + 2)),
      seqAsString: fc.boolean(),
      prev: fc.oneof({ weight: 9, arbitrary: hex64 }, fc.constantFrom("A".repeat(64), "xyz")),
      wrongHash: fc.boolean().map((b) => b && Math.random() < 0.2),
    }),
  )
  .map(({ r, chain, seq, seqAsString, prev, wrongHash }) => {
    const rec = structuredClone(r) as Record<string, Json>;
    if (chain === "none") return rec;
    const attrs = Array.isArray(rec.attributes) ? (rec.attributes as Json[]) : (rec.attributes = []);
    attrs.push({ key: CHAIN_ATTR.id, value: { stringValue: chain === "odd" ? "" : "chain-1" } });
    attrs.push({ key: CHAIN_ATTR.seq, value: chain === "odd" ? { stringValue: "1" } : { intValue: seqAsString ? String(seq) : seq } });
    if (chain !== "partial") attrs.push({ key: CHAIN_ATTR.prev, value: { stringValue: prev } });
    const canonical = canonicalFromOtlp(rec as OtlpLogRecord, CHAIN_ATTR.hash);
    attrs.push({ key: CHAIN_ATTR.hash, value: { stringValue: wrongHash ? "0".repeat(64) : hmac.hex(canonical) } });
    return rec;
  });

const line = fc
  .record({
    records: fc.array(record, { minLength: 1, maxLength: 3 }),
    scope: fc.constantFrom(SCOPE_NAME, "my-app", undefined),
    edit: fc.constantFrom("none", "none", "none", "none", "none", "none", "none", "none", "space", "dupBody", "escapedKey", "crlf", "trailing", "scopeLast", "bom"),
  })
  .map(({ records, scope, edit }) => {
    const sl = scope === undefined ? { logRecords: records } : { scope: { name: scope, version: "1" }, logRecords: records };
    let text = JSON.stringify({ resourceLogs: [{ resource: { attributes: [{ key: "service.name", value: { stringValue: "svc" } }] }, scopeLogs: [sl] }] });
    if (edit === "space") text = text.replace('"attributes":[', '"attributes": [');
    if (edit === "dupBody") text = text.replace('"body":', '"body":{"stringValue":"first"},"body":');
    if (edit === "escapedKey") text = text.replace('"eventName"', '"event\\u004eame"');
    if (edit === "crlf") text += "\r";
    if (edit === "trailing") text += "x";
    if (edit === "scopeLast") text = text.replace(/"scope":(\{[^}]*\}),("logRecords":.*)\}\]\}\]\}$/, '$2,"scope":$1}]}]}');
    if (edit === "bom") text = `\ufeff${text}`;
    return { text, records };
  });

/** What a chunk of lines gives through the exact path only, and through the scanner; the canonical forms the scanner wrote. */
function both(lines: string[]) {
  const exact = new ChunkRecords();
  for (const l of lines) if (!exact.unusual) verifyLine(l, exact, hmac.hex, inScope);
  const written: string[] = [];
  const scanner = new LineScanner((buf, end, encoding) => {
    if (encoding === "binary") written.push(buf.toString("utf8", 64, end));
    return hmac.into(buf, end, encoding);
  }, inScope);
  const data = Buffer.from(lines.join("\n"));
  const fast = verifyChunk({ index: 0, data }, hmac, inScope, scanner);
  return { exact: exact.result(0, data.length), fast, written };
}

/** The exact canonical form of every record generated (as JSON carries it: -0 is written 0), and of every record of the lines as they parse after their edits. */
function canonicals(lines: string[], generated: Json[]): Set<string> {
  const out = new Set(generated.map((r) => canonicalFromOtlp(JSON.parse(JSON.stringify(r)), CHAIN_ATTR.hash)));
  for (const l of lines) {
    try {
      for (const rl of JSON.parse(l).resourceLogs ?? []) for (const sl of rl.scopeLogs ?? []) for (const r of sl.logRecords ?? []) out.add(canonicalFromOtlp(r, CHAIN_ATTR.hash));
    } catch {
      // not JSON: the scanner writes nothing for it
    }
  }
  return out;
}

describe("the parallel verifier's byte scanner (property)", () => {
  it("gives what JSON.parse and the exact canonical form give, on hostile records of every AnyValue kind", () => {
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 3 }), (generated) => {
        // each line alone (a refusal ends a chunk), then the lines as one chunk
        for (const lines of [...generated.map((l) => [l.text]), generated.map((l) => l.text)]) {
          const { exact, fast, written } = both(lines);
          expect(Boolean(fast.unusual)).toBe(Boolean(exact.unusual));
          if (!exact.unusual) expect({ ...fast, leaves: Buffer.from(fast.leaves) }).toEqual({ ...exact, leaves: Buffer.from(exact.leaves) });
          const expected = canonicals(lines, generated.flatMap((l) => l.records));
          for (const c of written) expect(expected.has(c), c).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("leaves a chunk that is not UTF-8 to the exact path, which decodes it as verify always has", () => {
    const r = { timeUnixNano: "1", attributes: [{ key: "name", value: { stringValue: "Zo\ufffd" } }, { key: CHAIN_ATTR.id, value: { stringValue: "c" } }, { key: CHAIN_ATTR.seq, value: { intValue: 1 } }, { key: CHAIN_ATTR.prev, value: { stringValue: "0".repeat(64) } }] as Json[] };
    r.attributes.push({ key: CHAIN_ATTR.hash, value: { stringValue: hmac.hex(canonicalFromOtlp(r as unknown as OtlpLogRecord, CHAIN_ATTR.hash)) } });
    const text = JSON.stringify({ resourceLogs: [{ scopeLogs: [{ scope: { name: SCOPE_NAME }, logRecords: [r] }] }] });
    // the replacement character written as a lone byte 0xff: decoded, it is U+FFFD again
    const at = Buffer.from(text).indexOf(Buffer.from("\ufffd"));
    const data = Buffer.concat([Buffer.from(text).subarray(0, at), Buffer.of(0xff), Buffer.from(text).subarray(at + 3)]);
    const fast = verifyChunk({ index: 0, data }, hmac, inScope);
    const exact = new ChunkRecords();
    verifyLine(data.toString("utf8"), exact, hmac.hex, inScope);
    expect(fast.unusual).toBeUndefined();
    expect(fast.runs).toEqual(exact.result(0, data.length).runs);
    expect(fast.runs[0].count).toBe(1);
  });

  it("takes the common shape itself: a healthy line is hashed once per record, without JSON.parse", () => {
    const recs = Array.from({ length: 5 }, (_, i) => {
      const attributes: Json[] = [
        { key: "audit.action", value: { stringValue: "sign-in:email" } },
        { key: "http.response.status_code", value: { intValue: 200 + i } },
        { key: "ok", value: { boolValue: i % 2 === 0 } },
        { key: "n", value: { intValue: String(i) } },
        { key: "user.name", value: { stringValue: "Zoë 日本" } },
        { key: CHAIN_ATTR.id, value: { stringValue: "c" } },
        { key: CHAIN_ATTR.seq, value: { intValue: i + 1 } },
        { key: CHAIN_ATTR.prev, value: { stringValue: "0".repeat(64) } },
      ];
      const r = { timeUnixNano: "1793491200001000000", severityNumber: 9, severityText: "INFO", body: { stringValue: "b" }, eventName: "auth.x", attributes };
      attributes.push({ key: CHAIN_ATTR.hash, value: { stringValue: hmac.hex(canonicalFromOtlp(r as unknown as OtlpLogRecord, CHAIN_ATTR.hash)) } });
      return r;
    });
    const text = JSON.stringify({ resourceLogs: [{ resource: {}, scopeLogs: [{ scope: { name: SCOPE_NAME }, logRecords: recs }] }] });
    const parse = JSON.parse;
    let parses = 0;
    JSON.parse = (...args: Parameters<typeof parse>) => (parses++, parse(...args));
    try {
      const { exact, fast, written } = both([text]);
      expect(fast.runs.length).toBe(5); // every record's prev is zeros: no two link
      expect({ ...fast, leaves: Buffer.from(fast.leaves) }).toEqual({ ...exact, leaves: Buffer.from(exact.leaves) });
      expect(written.length).toBe(5);
      parses = 0;
      const again = new ChunkRecords();
      expect(new LineScanner(hmac.into, inScope).line(Buffer.from(text), 0, Buffer.byteLength(text), again)).toBe(true);
      expect(parses).toBe(1); // the resource only (an object the canonical form does not cover, checked by JSON.parse)
      expect(again.n).toBe(5);
    } finally {
      JSON.parse = parse;
    }
  });

  it("finds every byte that ends or spoils a string at every offset and alignment (the scanner reads four bytes at a time)", () => {
    const chained = (name: string, pad: string) => {
      const attributes: Json[] = [
        { key: "pad", value: { stringValue: pad } },
        { key: "user.name", value: { stringValue: name } },
        { key: CHAIN_ATTR.id, value: { stringValue: "c" } },
        { key: CHAIN_ATTR.seq, value: { intValue: 1 } },
        { key: CHAIN_ATTR.prev, value: { stringValue: "0".repeat(64) } },
      ];
      const r = { timeUnixNano: "1", eventName: "auth.x", attributes };
      attributes.push({ key: CHAIN_ATTR.hash, value: { stringValue: hmac.hex(canonicalFromOtlp(r as unknown as OtlpLogRecord, CHAIN_ATTR.hash)) } });
      return JSON.stringify({ resourceLogs: [{ scopeLogs: [{ scope: { name: SCOPE_NAME }, logRecords: [r] }] }] });
    };
    let cases = 0;
    for (const pad of ["", "p", "pp", "ppp"])
      for (let length = 1; length <= 11; length++)
        for (let k = 0; k < length; k++)
          for (const special of ["\u0000", "\u0001", "\u001f", '"', "\\", "é", "\u007f", "\u2028", " ", "~"]) {
            const name = `${"a".repeat(k)}${special}${"b".repeat(length - k - 1)}`;
            const text = chained(name, pad);
            // as JSON writes it (escaped where it must be), and with the character's raw UTF-8 bytes in place (a control character, quote or backslash raw: not JSON, or not this record)
            const raw = text.replace(JSON.stringify(name), `"${name}"`);
            for (const l of [text, raw]) {
              const { exact, fast, written } = both([l]);
              expect(Boolean(fast.unusual), l).toBe(Boolean(exact.unusual));
              if (!exact.unusual) expect({ ...fast, leaves: Buffer.from(fast.leaves) }, l).toEqual({ ...exact, leaves: Buffer.from(exact.leaves) });
              // and no canonical form written from bytes a string may not hold raw
              const expected = canonicals([l], []);
              for (const c of written) expect(expected.has(c), JSON.stringify(c)).toBe(true);
              cases++;
            }
          }
    expect(cases).toBe(4 * 66 * 10 * 2);
  });
});
