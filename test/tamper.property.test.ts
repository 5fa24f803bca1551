import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { verifyRecords, type OtlpFlatRecord } from "otel-auth-audit/verify";
import { type OtlpAnyValue, type OtlpKeyValue } from "../src/chain/canonical.js";
import { KEY, makeLog, publicKey } from "./helpers/chain-log.js";

// Every single mutation of a valid log must be found; untouched logs, shuffled and partly
// re-delivered, must never be flagged.

const attr = (r: OtlpFlatRecord, key: string): OtlpAnyValue | undefined => r.attributes?.find((a) => a.key === key)?.value;
const chainOf = (r: OtlpFlatRecord) => attr(r, "audit.chain.id")?.stringValue;
const seqOf = (r: OtlpFlatRecord) => Number(attr(r, "audit.chain.seq")?.intValue);
const clone = <T>(v: T): T => structuredClone(v);

/** A value that differs from `v` in the canonical form. */
function changed(v: OtlpAnyValue | undefined, n: number): OtlpAnyValue {
  if (!v) return { stringValue: `forged${n}` };
  if (v.stringValue !== undefined) {
    if (/^[0-9a-f]{64}$/.test(v.stringValue)) {
      const i = n % 64;
      const c = v.stringValue[i] === "0" ? "1" : "0";
      return { stringValue: v.stringValue.slice(0, i) + c + v.stringValue.slice(i + 1) };
    }
    return { stringValue: v.stringValue + String.fromCharCode(97 + (n % 26)) };
  }
  if (v.intValue !== undefined) return { intValue: Number(v.intValue) + 1 + (n % 5) };
  if (v.doubleValue !== undefined) return { doubleValue: Number(v.doubleValue) + 0.5 };
  if (v.boolValue !== undefined) return { boolValue: !v.boolValue };
  if (v.arrayValue) return { arrayValue: { values: [...(v.arrayValue.values ?? []), { stringValue: "x" }] } };
  if (v.kvlistValue) return { kvlistValue: { values: [...(v.kvlistValue.values ?? []), { key: "x", value: { stringValue: "x" } }] } };
  return { stringValue: `forged${n}` };
}

type Mutation =
  | { kind: "edit"; record: number; field: number; n: number }
  | { kind: "delete"; record: number }
  | { kind: "insert"; record: number; variant: number; at: number; other: number }
  | { kind: "swap"; record: number; other: number; variant: number }
  | { kind: "truncate"; chain: number; variant: number; n: number };

function mutate(log: OtlpFlatRecord[], chained: number[], m: Mutation): OtlpFlatRecord[] {
  const out = log.slice();
  const pick = (i: number) => chained[i % chained.length];
  switch (m.kind) {
    case "edit": {
      const at = pick(m.record);
      const r = (out[at] = clone(out[at]));
      const attrs = r.attributes!;
      const fields = ["eventName", "time", "severityNumber", "severityText", "body", "attr", "attr-remove", "attr-add", "attr-rename"];
      const field = fields[m.field % fields.length];
      const k = m.n % attrs.length;
      if (field === "eventName") r.eventName = (r.eventName ?? "") + "x";
      else if (field === "time") r.timeUnixNano = (BigInt(r.timeUnixNano ?? 0) + BigInt(1 + (m.n % 1000))).toString();
      else if (field === "severityNumber") r.severityNumber = Number(r.severityNumber ?? 0) + 1;
      else if (field === "severityText") r.severityText = (r.severityText ?? "") + "X";
      else if (field === "body") r.body = changed(r.body && Object.keys(r.body).length ? r.body : undefined, m.n);
      else if (field === "attr") attrs[k] = { key: attrs[k].key, value: changed(attrs[k].value, m.n) };
      else if (field === "attr-remove") attrs.splice(k, 1);
      else if (field === "attr-add") attrs.push({ key: `forged.${m.n}`, value: { stringValue: "1" } });
      else attrs[k] = { ...attrs[k], key: attrs[k].key + "x" };
      return out;
    }
    case "delete":
      out.splice(pick(m.record), 1);
      return out;
    case "insert": {
      const source = out[pick(m.record)];
      const forged = clone(source);
      const attrs = forged.attributes as OtlpKeyValue[];
      const set = (key: string, value: OtlpAnyValue) => {
        const i = attrs.findIndex((a) => a.key === key);
        if (i >= 0) attrs[i] = { key, value };
        else attrs.push({ key, value });
      };
      const variant = m.variant % 4;
      if (variant === 0) set("audit.action", { stringValue: "admin:forged" });
      else if (variant === 1) {
        // appended after the end of its chain, linked to the last record
        const same = out.filter((r) => chainOf(r) === chainOf(source));
        const last = same.reduce((a, b) => (seqOf(b) > seqOf(a) ? b : a));
        set("audit.chain.seq", { intValue: seqOf(last) + 1 });
        set("audit.chain.prev", attr(last, "audit.chain.hash")!);
      } else if (variant === 2) {
        // an audit record without chain attributes
        forged.attributes = attrs.filter((a) => !a.key.startsWith("audit.chain."));
      } else {
        // moved into another chain
        const other = out[pick(m.other)];
        if (chainOf(other) === chainOf(source)) set("audit.chain.id", { stringValue: "another-chain" });
        else set("audit.chain.id", attr(other, "audit.chain.id")!);
      }
      out.splice(m.at % (out.length + 1), 0, forged);
      return out;
    }
    case "swap": {
      const a = pick(m.record);
      const sameChain = chained.filter((i) => chainOf(out[i]) === chainOf(out[a]) && i !== a);
      const b = sameChain[m.other % sameChain.length];
      const ra = (out[a] = clone(out[a]));
      const rb = (out[b] = clone(out[b]));
      if (m.variant % 2 === 0) {
        // swap their places in the chain (seq)
        const sa = attr(ra, "audit.chain.seq")!;
        const sb = attr(rb, "audit.chain.seq")!;
        ra.attributes = ra.attributes!.map((x) => (x.key === "audit.chain.seq" ? { key: x.key, value: sb } : x));
        rb.attributes = rb.attributes!.map((x) => (x.key === "audit.chain.seq" ? { key: x.key, value: sa } : x));
      } else {
        // swap their contents, each keeping its chain attributes
        const chainAttrs = (r: OtlpFlatRecord) => r.attributes!.filter((x) => x.key.startsWith("audit.chain."));
        const content = (r: OtlpFlatRecord) => r.attributes!.filter((x) => !x.key.startsWith("audit.chain."));
        const [ca, cb] = [content(ra), content(rb)];
        const [ka, kb] = [chainAttrs(ra), chainAttrs(rb)];
        const fields = ["body", "eventName", "timeUnixNano", "severityNumber", "severityText"] as const;
        const a = ra as Record<string, unknown>;
        const b = rb as Record<string, unknown>;
        for (const f of fields) [a[f], b[f]] = [b[f], a[f]];
        ra.attributes = [...cb, ...ka];
        rb.attributes = [...ca, ...kb];
      }
      return out;
    }
    case "truncate": {
      const chains = [...new Set(chained.map((i) => chainOf(log[i])))];
      const chain = chains[m.chain % chains.length];
      const members = out.filter((r) => chainOf(r) === chain);
      const size = Math.max(...members.map(seqOf));
      const checkpoints = members.filter((r) => r.eventName === "audit.checkpoint").map(seqOf);
      const cp = checkpoints[m.n % checkpoints.length];
      // keep seq <= cut: just before a checkpoint, just after one, or anywhere
      const cut = [cp - 1, cp, m.n % size][m.variant % 3];
      // a chain cut to nothing leaves no trace in the log itself: at least one record stays
      const keep = Math.max(1, Math.min(cut, size - 1));
      return out.filter((r) => chainOf(r) !== chain || seqOf(r) <= keep);
    }
  }
}

const mutationArb = (records: number): fc.Arbitrary<Mutation> =>
  fc.oneof(
    fc.record({ kind: fc.constant("edit" as const), record: fc.nat(records), field: fc.nat(), n: fc.nat() }),
    fc.record({ kind: fc.constant("delete" as const), record: fc.nat(records) }),
    fc.record({ kind: fc.constant("insert" as const), record: fc.nat(records), variant: fc.nat(), at: fc.nat(), other: fc.nat(records) }),
    fc.record({ kind: fc.constant("swap" as const), record: fc.nat(records), other: fc.nat(), variant: fc.nat() }),
    fc.record({ kind: fc.constant("truncate" as const), chain: fc.nat(), variant: fc.nat(), n: fc.nat() }),
  );

describe("tamper detection (property)", () => {
  let log: OtlpFlatRecord[];
  let chained: number[];
  const options = { key: KEY, publicKey, requireClosed: true };
  beforeAll(async () => {
    log = (await makeLog({ chains: 3, perChain: 16, checkpointEvery: 8 })).flat;
    chained = log.flatMap((r, i) => (chainOf(r) ? [i] : []));
    expect(verifyRecords(log, options).ok).toBe(true);
  });

  it("detects 100% of 10,000 random single mutations", () => {
    const seen: Record<string, number> = {};
    fc.assert(
      fc.property(mutationArb(chained.length), (m) => {
        const result = verifyRecords(mutate(log, chained, m), options);
        if (result.ok) throw new Error(`undetected: ${JSON.stringify(m)}`);
        for (const p of result.problems) if (p.level === "error") seen[p.kind] = (seen[p.kind] ?? 0) + 1;
      }),
      { numRuns: 10_000 },
    );
    for (const kind of ["altered", "gap", "inserted", "truncated", "unchained"]) expect(seen[kind]).toBeGreaterThan(0);
  }, 120_000);

  it("raises no false alarm on 1,000 untouched logs, shuffled and partly re-delivered", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: log.length, maxLength: log.length }), fc.subarray([...log.keys()]), (order, dupes) => {
        const shuffled = log.map((r, i) => [order[i], r] as const).sort((a, b) => a[0] - b[0]).map(([, r]) => r);
        const input = [...shuffled, ...dupes.map((i) => clone(log[i]))];
        const result = verifyRecords(input, options);
        expect(result.problems.filter((p) => p.level === "error")).toEqual([]);
        expect(result.ok).toBe(true);
      }),
      { numRuns: 1_000 },
    );
  }, 60_000);
});
