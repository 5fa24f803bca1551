
import { Writable } from "node:stream";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IntegrityProcessor } from "otel-auth-audit";
import { readOtlpJson, verifyRecords } from "otel-auth-audit/verify";
import { createTestAudit } from "otel-auth-audit/testing";
import { runVerify } from "../../src/cli/verify.js";
import { PARALLEL_MIN_BYTES, verifyFilesParallel } from "../../src/verify/parallel.js";
import { KEY, makeLog, publicKey, toOtlpJson } from "../helpers/chain-log.js";
import { jsonlFiles } from "../helpers/jsonl-files.js";

// An OTLP AnyValue the wire cannot carry — two value fields, a field of the wrong JSON type, an
// unknown field — or a timestamp that is not digits says different things to different readers
// (`{"boolValue":"false"}` is true to one, "false" to another). verify must never prove such a
// record: not verifyRecords, not the parallel fast path, not the CLI (small or ≥ 16 MiB file).

const files = jsonlFiles("oaa-verify-malformed-");
afterAll(files.remove);
const fileOf = files.fileOf;
const cli = async (args: string[]) => {
  let stdout = "";
  const out = new Writable({ write: (c, _e, cb) => ((stdout += String(c)), cb()) });
  return { code: await runVerify(args, out), stdout };
};

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type AnyValue = Record<string, Json>;
const FIELDS = ["stringValue", "boolValue", "intValue", "doubleValue", "bytesValue", "arrayValue", "kvlistValue"];

/** Every AnyValue of a record: attribute values, body, and those nested in arrays and maps. */
function anyValues(record: Record<string, Json>): AnyValue[] {
  const out: AnyValue[] = [];
  const walk = (v: Json | undefined) => {
    if (!v || typeof v !== "object" || Array.isArray(v)) return;
    out.push(v);
    const list = (v.arrayValue ?? v.kvlistValue) as { values?: Json[] } | undefined;
    for (const x of list?.values ?? []) walk(v.kvlistValue ? (x as { value?: Json }).value : x);
  };
  for (const kv of (record.attributes as Array<{ value?: Json }>) ?? []) walk(kv.value);
  walk(record.body);
  return out;
}

/** The field's value as another JSON type that prints alike, never an equivalent wire spelling. */
function wrongTypes(field: string, x: Json): Json[] {
  switch (field) {
    case "boolValue":
      return [String(x), x ? 1 : 0, [x], x ? "true" : ""];
    case "stringValue":
      return [[x], { v: x }, Number.isNaN(Number(x)) ? [x, x] : Number(x)];
    case "intValue":
    case "doubleValue":
      return [[x], { v: x }, true];
    case "bytesValue":
      return [[x], { v: x }];
    default:
      return [((x as { values?: Json }).values ?? []) as Json, "x", { values: {} }];
  }
}

type Mutation = { kind: "second-field" | "wrong-type" | "unknown-field" | "timestamp"; at: number; which: number; pick: number };
const mutation = fc.record({
  kind: fc.constantFrom("second-field" as const, "wrong-type" as const, "unknown-field" as const, "timestamp" as const),
  at: fc.nat(),
  which: fc.nat(),
  pick: fc.nat(),
});

/** Applies `m` to one chained record of `lines` (one OTLP request per line); the mutated lines. */
function mutate(lines: string[], chained: number[], m: Mutation): string[] {
  const i = chained[m.at % chained.length];
  const doc = JSON.parse(lines[i]);
  const record = doc.resourceLogs[0].scopeLogs[0].logRecords[0];
  if (m.kind === "timestamp") {
    const t = record.timeUnixNano;
    record.timeUnixNano = [[t], { t }, true][m.pick % 3];
  } else {
    const values = anyValues(record).filter((v) => Object.values(v).some((x) => x !== undefined && x !== null)); // not the empty AnyValue
    const v = values[m.which % values.length];
    const field = Object.keys(v).find((k) => v[k] !== undefined && v[k] !== null)!;
    if (m.kind === "second-field") {
      const other = FIELDS.filter((f) => f !== field)[m.pick % 6];
      const sample: Record<string, Json> = { stringValue: "x", boolValue: true, intValue: 1, doubleValue: 1.5, bytesValue: "eA==", arrayValue: { values: [] }, kvlistValue: { values: [] } };
      v[other] = sample[other];
    } else if (m.kind === "wrong-type") {
      const options = wrongTypes(field, v[field]);
      v[field] = options[m.pick % options.length];
    } else {
      v[`${field}X`] = v[field];
      delete v[field];
    }
  }
  const out = lines.slice();
  out[i] = JSON.stringify(doc);
  return out;
}

describe("verify never proves a malformed value (property)", () => {
  let lines: string[];
  let chained: number[];
  beforeAll(async () => {
    const log = await makeLog({ chains: 1, perChain: 10, checkpointEvery: 4 });
    lines = log.sdk.map((r) => toOtlpJson([r]));
    chained = lines.flatMap((l, i) => (l.includes('"audit.chain.hash"') ? [i] : []));
  }, 60_000);

  it("the untouched log verifies on every path", async () => {
    expect(verifyRecords(readOtlpJson(lines.join("\n")), { key: KEY, publicKey, requireClosed: true }).ok).toBe(true);
    expect((await verifyFilesParallel([fileOf(lines)], { key: KEY, publicKey, requireClosed: true, workers: 0, chunkBytes: 2000 }))?.ok).toBe(true);
    expect((await cli([fileOf(lines), "--key", KEY, "--require-closed"])).code).toBe(0);
  });

  it("fails every malformation in verifyRecords, the parallel path and the CLI", async () => {
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        const damaged = mutate(lines, chained, m);
        const exact = verifyRecords(readOtlpJson(damaged.join("\n")), { key: KEY, requireClosed: true });
        expect(exact.ok).toBe(false);
        // altered in general; unchained or a gap when the chain attributes themselves are the malformed values
        expect(exact.problems.filter((p) => p.level === "error").map((p) => p.kind)).toEqual(expect.arrayContaining([expect.stringMatching(/altered|inserted|unchained|gap/)]));
        const path = fileOf(damaged);
        expect(await verifyFilesParallel([path], { key: KEY, requireClosed: true, workers: 0, chunkBytes: 1500 })).toBeUndefined();
        expect((await cli([path, "--key", KEY, "--require-closed"])).code).toBe(1);
      }),
      { numRuns: 150 },
    );
  }, 60_000);
});

describe("the CLI's parallel path on a file of 16 MiB and more", () => {
  let lines: string[];
  beforeAll(async () => {
    const integrity = new IntegrityProcessor({ key: KEY, checkpointEvery: 500, checkpointIntervalMs: 0 });
    const t = createTestAudit({ processors: [integrity] });
    integrity.bind(t.provider);
    const padding = "p".repeat(4000);
    for (let i = 0; i < 4400; i++) {
      await t.audit.record({ action: "sign-in:email", outcome: "success", userId: `user-${i}`, metadata: { ok: i % 2 === 0, padding } });
    }
    integrity.close();
    lines = t.exporter.getFinishedLogRecords().map((r) => toOtlpJson([r]));
  }, 120_000);

  it("proves the healthy file in parallel, and fails one record mutated in the middle", async () => {
    const healthy = fileOf(lines);
    const bytes = lines.reduce((a, l) => a + l.length + 1, 0);
    expect(bytes).toBeGreaterThanOrEqual(PARALLEL_MIN_BYTES);
    expect((await verifyFilesParallel([healthy], { key: KEY, requireClosed: true, workers: 2 }))?.ok).toBe(true);
    expect((await cli([healthy, "--key", KEY, "--require-closed", "--workers", "2"])).code).toBe(0);

    const mid = Math.floor(lines.length / 2);
    const edits: Array<(l: string) => string> = [
      (l) => l.replace('"boolValue":true', '"boolValue":"false"'),
      (l) => l.replace('"boolValue":false', '"boolValue":0'),
      (l) => l.replace(/"stringValue":"user-(\d+)"/, '"stringValue":"user-$1","intValue":7'),
      (l) => l.replace(/"stringValue":"user-(\d+)"/, '"stringValue":"admin"'),
    ];
    for (const edit of edits) {
      const at = lines.findIndex((l, i) => i >= mid && edit(l) !== l);
      const damaged = lines.slice();
      damaged[at] = edit(lines[at]);
      const r = await cli([fileOf(damaged), "--key", KEY, "--require-closed", "--workers", "2"]);
      expect(r.code, edit.toString()).toBe(1);
      expect(r.stdout).toMatch(/altered at \d+/);
    }
  }, 120_000);
});
