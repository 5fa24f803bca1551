import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { IntegrityProcessor, RedactionProcessor, readOtlpJson, verifyRecords, type OtlpAnyValue, type OtlpFlatRecord } from "otel-auth-audit";
import { createTestAudit } from "otel-auth-audit/testing";
import { KEY, privateKey, publicKey, toOtlpJson } from "../helpers/chain-log.js";

// verify must reject anything it cannot prove: every type change the wire can tell apart, every
// duplicated key, and any input that is empty or not OTLP.

let log: OtlpFlatRecord[];
let json: string;

beforeAll(async () => {
  const integrity = new IntegrityProcessor({ key: KEY, signingKey: privateKey, checkpointEvery: 3, checkpointIntervalMs: 0 });
  const t = createTestAudit({ processors: [new RedactionProcessor(), integrity] });
  integrity.bind(t.provider);
  for (let i = 0; i < 6; i++) {
    await t.audit.record({
      action: "sign-in:email",
      outcome: "success",
      userId: `user-${i}`,
      statusCode: 200,
      time: new Date(Date.UTC(2026, 10, 1, 0, 0, i)),
      metadata: { rows: i, ratio: i + 0.5, ok: true, big: 2 ** 53, nan: Number.NaN, inf: -Infinity, negZero: -0, huge: 10n ** 30n, tags: [1, 2], flag: "1" },
    });
  }
  integrity.close();
  json = toOtlpJson(t.exporter.getFinishedLogRecords());
  log = readOtlpJson(json);
});

const audit = () => log.filter((r) => r.scope?.name === "otel-auth-audit");
const clone = <T>(v: T): T => structuredClone(v);
const verify = (records: OtlpFlatRecord[]) => verifyRecords(records, { key: KEY, publicKey, requireClosed: true });

/** Same number or text, another wire type. */
function retype(v: OtlpAnyValue, n: number): OtlpAnyValue | undefined {
  if (v.intValue !== undefined) {
    const options: OtlpAnyValue[] = [
      { doubleValue: Number(v.intValue) },
      { stringValue: String(v.intValue) },
      { intValue: String(v.intValue) === String(2 ** 53) ? "9007199254740993" : String(BigInt(v.intValue) + 1n) },
      { arrayValue: { values: [{ intValue: v.intValue }] } },
    ];
    return options[n % options.length];
  }
  if (v.doubleValue !== undefined) return n % 2 ? { stringValue: String(v.doubleValue) } : { intValue: Math.trunc(Number(v.doubleValue)) };
  if (v.stringValue !== undefined) {
    if (["NaN", "Infinity", "-Infinity", "-0"].includes(v.stringValue)) return { doubleValue: v.stringValue as unknown as number };
    if (/^-?\d+$/.test(v.stringValue)) return n % 2 ? { intValue: v.stringValue } : { doubleValue: Number(v.stringValue) };
    return n % 2 ? { bytesValue: Buffer.from(v.stringValue).toString("base64") } : { kvlistValue: { values: [{ key: v.stringValue, value: {} }] } };
  }
  if (v.boolValue !== undefined) return n % 2 ? { stringValue: String(v.boolValue) } : { intValue: v.boolValue ? 1 : 0 };
  if (v.arrayValue?.values?.length) {
    const values = v.arrayValue.values.slice();
    values[n % values.length] = retype(values[n % values.length], n + 1) ?? { stringValue: "x" };
    return { arrayValue: { values } };
  }
  return undefined;
}

describe("verify strictness (property)", () => {
  it("the untouched log verifies", () => {
    const result = verify(log);
    expect(result.problems.filter((p) => p.level === "error")).toEqual([]);
    expect(result.ok).toBe(true);
  });

  it("the values OTLP cannot carry arrive as their documented strings", () => {
    const r = audit()[0];
    const get = (k: string) => r.attributes!.find((a) => a.key === `audit.metadata.${k}`)?.value;
    expect(get("nan")).toEqual({ stringValue: "NaN" });
    expect(get("inf")).toEqual({ stringValue: "-Infinity" });
    expect(get("negZero")).toEqual({ stringValue: "-0" });
    expect(get("huge")).toEqual({ stringValue: "1000000000000000000000000000000" });
    expect(json).not.toContain("null");
  });

  it("fails on every type change of any attribute of any record", () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.nat(), (ri, ai, n) => {
        const records = audit();
        const target = records[ri % records.length];
        const attrs = target.attributes!;
        const k = ai % attrs.length;
        const changed = retype(attrs[k].value ?? {}, n);
        if (!changed) return true;
        const forged = clone(target);
        forged.attributes![k] = { key: attrs[k].key, value: changed };
        const result = verify(log.map((r) => (r === target ? forged : r)));
        return !result.ok;
      }),
      { numRuns: 400 },
    );
  });

  it("fails on a duplicated key, whatever its value", () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.boolean(), fc.boolean(), (ri, ai, sameValue, first) => {
        const records = audit();
        const target = records[ri % records.length];
        const forged = clone(target);
        const attrs = forged.attributes!;
        const original = attrs[ai % attrs.length];
        const copy = { key: original.key, value: sameValue ? clone(original.value) : { stringValue: "forged" } };
        if (first) attrs.unshift(copy);
        else attrs.push(copy);
        const result = verify(log.map((r) => (r === target ? forged : r)));
        return !result.ok && result.problems.some((p) => p.kind === "duplicate-key");
      }),
      { numRuns: 200 },
    );
  });

  it("refuses empty and foreign input (read error or a failed result, never ok)", () => {
    const fixed = ["", "{}", "[]", "42", '"text"', "null", "true", '{"foo":1}', '[{"resourceLogs":5}]', '{"resourceLogs":[{"scopeLogs":[{"logRecords":[1]}]}]}', "[[]]"];
    const refused = (text: string) => {
      try {
        return !verifyRecords(readOtlpJson(text), { key: KEY }).ok;
      } catch {
        return true;
      }
    };
    for (const text of fixed) expect(refused(text), text).toBe(true);
    fc.assert(fc.property(fc.jsonValue(), (v) => refused(JSON.stringify(v) ?? "")), { numRuns: 500 });
    // a log of app records only proves nothing either
    expect(refused(JSON.stringify({ resourceLogs: [{ scopeLogs: [{ scope: { name: "app" }, logRecords: [{ body: { stringValue: "x" } }] }] }] }))).toBe(true);
    // unless asked for
    expect(verifyRecords(readOtlpJson("{}"), { allowEmpty: true }).ok).toBe(true);
  });

  it("refuses an empty key, and a chain without checkpoints under a public key", async () => {
    expect(() => verifyRecords(log, { key: "" })).toThrow(/key/);
    // a forger without the signing key writes a well-linked chain with no checkpoint at all
    const integrity = new IntegrityProcessor({ key: KEY, checkpointEvery: 0, checkpointIntervalMs: 0 });
    const t = createTestAudit({ processors: [integrity] });
    integrity.bind(t.provider);
    for (let i = 0; i < 3; i++) await t.audit.record({ action: "admin:ban-user", outcome: "success", userId: `u${i}` });
    const forged = readOtlpJson(toOtlpJson(t.exporter.getFinishedLogRecords()));
    expect(verifyRecords(forged, { key: KEY }).ok).toBe(true);
    const result = verifyRecords(forged, { key: KEY, publicKey });
    expect(result.ok).toBe(false);
    expect(result.problems.map((p) => p.kind)).toContain("checkpoint-signature");
  });
});
