import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from "@opentelemetry/sdk-logs";
import canonicalize from "canonicalize";
import fc from "fast-check";
import { createHash, createHmac } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { canonicalFromOtlp, canonicalFromSdk, jcs } from "../src/chain/canonical.js";
import { CHAIN_ATTR } from "../src/chain/format.js";
import { IntegrityProcessor } from "otel-auth-audit";
import { MerkleTree } from "../src/chain/merkle.js";
import { readOtlpJson, verifyRecords, type OtlpFlatRecord } from "otel-auth-audit/verify";
import { createTestAudit } from "otel-auth-audit/testing";
import { KEY, makeLog, publicKey, toOtlpJson } from "./helpers/chain-log.js";

describe("IntegrityProcessor", () => {
  it("chains audit records: id, seq from 1, prev from 64 zeros, hash", async () => {
    const integrity = new IntegrityProcessor({ key: KEY, checkpointIntervalMs: 0 });
    const t = createTestAudit({ processors: [integrity] });
    integrity.bind(t.provider);
    await t.audit.record({ action: "sign-in:email", outcome: "success", userId: "u1" });
    await t.audit.record({ action: "sign-out", outcome: "success", userId: "u1" });
    const [a, b] = t.records();
    expect(a.attributes).toMatchObject({ [CHAIN_ATTR.id]: integrity.chainId, [CHAIN_ATTR.seq]: 1, [CHAIN_ATTR.prev]: "0".repeat(64) });
    expect(b.attributes).toMatchObject({ [CHAIN_ATTR.seq]: 2, [CHAIN_ATTR.prev]: a.attributes[CHAIN_ATTR.hash] });
    expect(b.attributes[CHAIN_ATTR.hash]).toMatch(/^[0-9a-f]{64}$/);
    // the hash is HMAC-SHA256(key, canonical form without the hash), as node:crypto computes it
    for (const r of [a, b]) {
      expect(r.attributes[CHAIN_ATTR.hash]).toBe(createHmac("sha256", KEY).update(canonicalFromSdk(r, CHAIN_ATTR.hash)).digest("hex"));
    }
    const long = new IntegrityProcessor({ key: "k".repeat(100), checkpointIntervalMs: 0 });
    const t2 = createTestAudit({ processors: [long] });
    await t2.audit.record({ action: "é-✓", outcome: "success", metadata: { long: "é ✓ 😀 " + "x".repeat(5000) } });
    const [c] = t2.records();
    expect(c.attributes[CHAIN_ATTR.hash]).toBe(createHmac("sha256", "k".repeat(100)).update(canonicalFromSdk(c, CHAIN_ATTR.hash)).digest("hex"));
    expect(verifyRecords(t.records(), { key: KEY })).toMatchObject({ ok: true, chains: [{ size: 2, ok: true, closed: false }] });
    expect(verifyRecords(t.records(), { key: "wrong" }).ok).toBe(false);
  });

  it("leaves ordinary app logs untouched", () => {
    const exporter = new InMemoryLogRecordExporter();
    const integrity = new IntegrityProcessor({ key: KEY, checkpointIntervalMs: 0 });
    const provider = new LoggerProvider({ processors: [integrity, new SimpleLogRecordProcessor({ exporter })] });
    provider.getLogger("my-app").emit({ body: "hello", attributes: { a: 1 } });
    expect(exporter.getFinishedLogRecords()[0].attributes).toEqual({ a: 1 });
    expect(integrity.seq).toBe(0);
  });

  it("emits checkpoints every N records through the bound provider, and a final one on close()", async () => {
    const integrity = new IntegrityProcessor({ key: KEY, checkpointEvery: 3, checkpointIntervalMs: 0 });
    const t = createTestAudit({ processors: [integrity] });
    integrity.bind(t.provider);
    for (let i = 0; i < 7; i++) await t.audit.record({ action: "sign-in:email", outcome: "success" });
    integrity.close();
    const names = t.exporter.getFinishedLogRecords().map((r) => r.eventName);
    expect(names.filter((n) => n === "audit.checkpoint")).toHaveLength(3);
    const last = t.exporter.getFinishedLogRecords().at(-1)!;
    expect(last.attributes).toMatchObject({ "audit.checkpoint.final": true, "audit.checkpoint.size": last.attributes[CHAIN_ATTR.seq] as number - 1 });
    expect(verifyRecords(t.exporter.getFinishedLogRecords(), { key: KEY, requireClosed: true })).toMatchObject({ ok: true, chains: [{ closed: true, checkpoints: 3 }] });
  });

  it("emits checkpoints on a timer even when idle", async () => {
    const integrity = new IntegrityProcessor({ key: KEY, checkpointIntervalMs: 20 });
    const t = createTestAudit({ processors: [integrity] });
    integrity.bind(t.provider);
    await new Promise((r) => setTimeout(r, 70));
    await integrity.shutdown();
    expect(t.exporter.getFinishedLogRecords().filter((r) => r.eventName === "audit.checkpoint").length).toBeGreaterThanOrEqual(2);
  });

  it("does not chain or claim a checkpoint when bound to a provider without it", () => {
    const integrity = new IntegrityProcessor({ key: KEY, checkpointIntervalMs: 0, loggerProvider: new LoggerProvider() });
    expect(integrity.checkpoint()).toBe(false);
  });

  it("rejects a signing key that is not Ed25519", () => {
    expect(() => new IntegrityProcessor({ signingKey: "not a pem" })).toThrow();
  });
});

describe("canonical form", () => {
  const attributeValue = fc.oneof(
    fc.string(),
    fc.integer(),
    // integers beyond int64 cannot travel as intValue: the record builder encodes them as strings (wire-values.ts)
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !(Number.isInteger(d) && Math.abs(d) >= 2 ** 63)),
    fc.boolean(),
    fc.array(fc.oneof(fc.string(), fc.integer())),
    fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null))),
  );
  const recordArb = fc.record({
    attributes: fc.dictionary(fc.string({ minLength: 1 }), attributeValue),
    body: fc.option(attributeValue, { nil: undefined }),
    eventName: fc.option(fc.string(), { nil: undefined }),
    severityText: fc.option(fc.string(), { nil: undefined }),
    severityNumber: fc.option(fc.integer({ min: 0, max: 24 }), { nil: undefined }),
    timestamp: fc.integer({ min: 0, max: 4_000_000_000_000 }),
  });

  it("is the same from the SDK record, the JS SDK's OTLP JSON and the collector's (intValue as strings)", () => {
    fc.assert(
      fc.property(recordArb, (input) => {
        const exporter = new InMemoryLogRecordExporter();
        const provider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter })] });
        provider.getLogger("x").emit(input);
        const [sdk] = exporter.getFinishedLogRecords();
        const json = toOtlpJson([sdk]);
        const [otlp] = readOtlpJson(json);
        const collectorStyle = readOtlpJson(json.replace(/"intValue":(-?[\d.e+]+)(?=[,}])/g, '"intValue":"$1"'))[0];
        const a = canonicalFromSdk(sdk, "none");
        expect(canonicalFromOtlp(otlp, "none")).toBe(a);
        expect(canonicalFromOtlp(collectorStyle, "none")).toBe(a);
        expect(JSON.parse(a)).toBeTypeOf("object");
      }),
      { numRuns: 500 },
    );
  });

  it("covers every attribute name, whatever the names of the records before (an empty name, a NUL in a name)", () => {
    const at = { hrTime: [1, 0] as [number, number] };
    // each pair's name lists once joined to the same text: the sort cache must still tell them apart
    const pairs: Array<Array<Record<string, string>>> = [
      [{}, { "": "x" }],
      [{ "a\u0000b": "1" }, { a: "2", b: "3" }],
      [{ a: "2", b: "3" }, { "a\u0000b": "1" }],
    ];
    for (const [before, after] of pairs) {
      canonicalFromSdk({ ...at, attributes: before }, "none");
      const canonical = JSON.parse(canonicalFromSdk({ ...at, attributes: after }, "none"));
      expect(canonical.attributes).toEqual(after);
    }
  });

  it("jcs agrees with the canonicalize package (RFC 8785)", () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => {
          expect(jcs(v)).toBe(canonicalize(v));
        }), { numRuns: 2000 });
  });

  it("omits empty fields as the collector does", () => {
    const r: OtlpFlatRecord = { timeUnixNano: "0001", body: {}, attributes: [{ key: "a", value: { arrayValue: {} } }, { key: "b", value: { kvlistValue: {} } }] };
    expect(canonicalFromOtlp(r, "none")).toBe('{"attributes":{"a":[],"b":{"$kvlist":{}}},"timestamp":"1"}');
  });
});

describe("MerkleTree", () => {
  const reference = (leaves: Buffer[]): Buffer => {
    const h = (b: Buffer) => createHash("sha256").update(b).digest();
    if (leaves.length === 0) return h(Buffer.alloc(0));
    if (leaves.length === 1) return h(Buffer.concat([Buffer.of(0), leaves[0]]));
    let k = 1;
    while (k * 2 < leaves.length) k *= 2;
    return h(Buffer.concat([Buffer.of(1), reference(leaves.slice(0, k)), reference(leaves.slice(k))]));
  };
  it("matches the RFC 6962 definition for every size up to 70", () => {
    const tree = new MerkleTree();
    const leaves: Buffer[] = [];
    expect(tree.root()).toBe(reference([]).toString("hex"));
    for (let i = 0; i < 70; i++) {
      const leaf = createHash("sha256").update(String(i)).digest();
      leaves.push(leaf);
      tree.append(leaf);
      expect(tree.root()).toBe(reference(leaves).toString("hex"));
    }
  });
});

describe("verifyRecords on a real log", () => {
  let log: Awaited<ReturnType<typeof makeLog>>;
  beforeAll(async () => {
    log = await makeLog();
  });

  it("verifies SDK records and their OTLP JSON alike", () => {
    for (const input of [log.sdk, log.flat]) {
      const result = verifyRecords(input, { key: KEY, publicKey, requireClosed: true });
      expect(result.problems).toEqual([]);
      expect(result.ok).toBe(true);
      expect(result.chains).toHaveLength(3);
      expect(result.chains.every((c) => c.closed && c.ok && c.checkpoints >= 4)).toBe(true);
    }
  });

  it("reads JSON lines (the collector's file exporter)", () => {
    const lines = log.sdk.map((r) => toOtlpJson([r])).join("\n");
    expect(verifyRecords(readOtlpJson(lines), { key: KEY, publicKey, requireClosed: true }).ok).toBe(true);
  });

  it("without the key: says the key is required and still checks signatures", () => {
    const result = verifyRecords(log.flat, { publicKey });
    expect(result.ok).toBe(false);
    expect(result.problems.map((p) => p.kind)).toContain("key-required");
    expect(result.problems.some((p) => p.kind === "checkpoint-signature")).toBe(false);
  });

  it("an open chain is info by default and truncated with requireClosed", () => {
    const cut = log.flat.filter((r) => !r.attributes?.some((a) => a.key === "audit.checkpoint.final"));
    expect(verifyRecords(cut, { key: KEY, publicKey }).ok).toBe(true);
    expect(verifyRecords(cut, { key: KEY, publicKey }).problems.every((p) => p.kind === "open")).toBe(true);
    expect(verifyRecords(cut, { key: KEY, publicKey, requireClosed: true }).problems.map((p) => p.kind)).toContain("truncated");
  });

  it("flags audit records that carry no chain", () => {
    const t = createTestAudit({ integrity: false });
    return t.audit.record({ action: "x", outcome: "success" }).then(() => {
      expect(verifyRecords(t.records(), { key: KEY }).problems.map((p) => p.kind)).toEqual(["unchained", "empty"]);
    });
  });
});
