
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readOtlpJson, verifyRecords } from "otel-auth-audit/verify";
import { verifyFilesParallel } from "../src/verify/parallel.js";
import { KEY, makeLog, publicKey, toOtlpJson } from "./helpers/chain-log.js";
import { jsonlFiles } from "./helpers/jsonl-files.js";

const files = jsonlFiles("otel-auth-audit-verify-parallel-");
afterAll(files.remove);
const fileOf = files.fileOf;
const exact = (lines: string[], requireClosed = true) => verifyRecords(readOtlpJson(lines.join("\n")), { key: KEY, publicKey, requireClosed });

/** One record per line, the chains interleaved as several processes' exports would be. */
const lines: string[] = [];
let open: string[] = [];
beforeAll(async () => {
  const log = await makeLog({ chains: 3, perChain: 60, checkpointEvery: 7 });
  const byChain = new Map<string, string[]>();
  for (const r of log.sdk) {
    const id = String(r.attributes["audit.chain.id"] ?? "app");
    if (!byChain.has(id)) byChain.set(id, []);
    byChain.get(id)!.push(toOtlpJson([r]));
  }
  const queues = [...byChain.values()];
  for (let i = 0; queues.some((q) => q.length); i++) {
    const q = queues[i % queues.length];
    if (q.length) lines.push(q.shift()!);
  }
  // an open chain: the same log without the final checkpoints
  open = lines.filter((l) => !l.includes('"audit.checkpoint.final"'));
});

describe("verifyFilesParallel", () => {
  it("proves a healthy log with the result the exact verifier gives, across workers and chunks", async () => {
    for (const workers of [0, 2]) {
      const result = await verifyFilesParallel([fileOf(lines)], { key: KEY, publicKey, requireClosed: true, workers, chunkBytes: 3000 });
      expect(result).toEqual(exact(lines));
      expect(result?.ok).toBe(true);
    }
  });

  it("reports an open chain as the exact verifier does, and leaves a required close to it", async () => {
    expect(await verifyFilesParallel([fileOf(open)], { key: KEY, publicKey, workers: 2, chunkBytes: 5000 })).toEqual(exact(open, false));
    expect(await verifyFilesParallel([fileOf(open)], { key: KEY, publicKey, requireClosed: true, workers: 2 })).toBeUndefined();
  });

  it("accepts records that arrive ahead of their turn within the window, and hands a gap wider than it to the exact verifier", async () => {
    const shuffled = [...lines];
    [shuffled[10], shuffled[40]] = [shuffled[40], shuffled[10]];
    expect(await verifyFilesParallel([fileOf(shuffled)], { key: KEY, publicKey, requireClosed: true, workers: 2, chunkBytes: 4000 })).toEqual(exact(shuffled));
    expect(await verifyFilesParallel([fileOf(shuffled)], { key: KEY, publicKey, requireClosed: true, workers: 0, reorderWindow: 2 })).toBeUndefined();
  });

  it("never proves a damaged log: any edit, deletion, repetition, reordering or addition goes to the exact verifier or gives its result", async () => {
    const edits = fc.oneof(
      fc.record({ op: fc.constant("alter" as const), at: fc.nat(), from: fc.constantFrom('"user-', '"success"', ":2", "203.0.113.9", '"audit.chain.seq"', "INFO") }),
      fc.record({ op: fc.constant("delete" as const), at: fc.nat() }),
      fc.record({ op: fc.constant("repeat" as const), at: fc.nat() }),
      fc.record({ op: fc.constant("swap" as const), at: fc.nat(), to: fc.nat() }),
      fc.record({ op: fc.constant("truncate" as const), at: fc.nat() }),
      fc.record({ op: fc.constant("duplicate-key" as const), at: fc.nat() }),
      fc.record({ op: fc.constant("foreign" as const), at: fc.nat(), text: fc.constantFrom("{}", "[1]", '{"resourceLogs":{}}', "not json", '{"resourceLogs":[],"x":1}') }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(edits, { minLength: 1, maxLength: 3 }), async (script) => {
        const damaged = [...lines];
        for (const e of script) {
          const i = e.at % damaged.length;
          if (e.op === "alter") damaged[i] = damaged[i].replace(e.from, e.from === ":2" ? ":3" : e.from.replace(/.$/, "X$&"));
          else if (e.op === "delete") damaged.splice(i, 1);
          else if (e.op === "repeat") damaged.splice(i, 0, damaged[i]);
          else if (e.op === "swap") [damaged[i], damaged[e.to % damaged.length]] = [damaged[e.to % damaged.length], damaged[i]];
          else if (e.op === "truncate") damaged.length = Math.max(1, i);
          else if (e.op === "duplicate-key") damaged[i] = damaged[i].replace('"attributes":[', '"attributes":[{"key":"audit.outcome","value":{"stringValue":"success"}},');
          else damaged.splice(i, 0, e.text);
        }
        let expected: ReturnType<typeof verifyRecords> | "throws";
        try {
          expected = exact(damaged);
        } catch {
          expected = "throws";
        }
        const result = await verifyFilesParallel([fileOf(damaged)], { key: KEY, publicKey, requireClosed: true, workers: 0, chunkBytes: 2000 });
        if (result === undefined) return; // the exact verifier judges it
        // whatever the fast path answers must be the exact verifier's answer, and only for a proven log
        expect(expected).not.toBe("throws");
        expect(result).toEqual(expected);
        expect(result.ok).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it("needs the key: without it the exact verifier runs", async () => {
    expect(await verifyFilesParallel([fileOf(lines)], { workers: 0 })).toBeUndefined();
  });
});
