import { closeSync, openSync, writeFileSync } from "node:fs";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readOtlpJson, verifyRecords } from "otel-auth-audit/verify";
import { verifyFilesParallel } from "../src/verify/parallel.js";
import { RangeReader } from "../src/verify/range.js";
import { KEY, makeLog, publicKey, toOtlpJson } from "./helpers/chain-log.js";
import { jsonlFiles } from "./helpers/jsonl-files.js";

// The parallel verifier cuts its input into byte ranges read by the workers themselves: every
// line must reach exactly one range, and damage right at a range's edge must still be caught.
const files = jsonlFiles("otel-auth-audit-verify-range-");
afterAll(files.remove);

/** The lines ranges cut at `cuts` hand out, read with a read-ahead of `ahead` bytes. */
function linesByRanges(text: string, cuts: number[], ahead: number): string[] {
  const path = files.fileOf([]);
  writeFileSync(path, text);
  const size = Buffer.byteLength(text);
  const bounds = [...new Set([0, ...cuts.map((c) => c % (size + 1)), size])].sort((a, b) => a - b);
  const fd = openSync(path, "r");
  const reader = new RangeReader(ahead);
  const out: string[] = [];
  try {
    for (let i = 0; i + 1 < bounds.length; i++) {
      const data = reader.read({ fd, start: bounds[i], end: bounds[i + 1], size });
      expect(data).toBeDefined();
      if (data!.length > 0 || startsLine(text, bounds[i], bounds[i + 1])) out.push(...data!.toString("latin1").split("\n"));
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

/** Whether a line starts in [start, end) of `text` (an empty line counts). */
function startsLine(text: string, start: number, end: number): boolean {
  for (let p = start; p < end; p++) if (p === 0 || text[p - 1] === "\n") return true;
  return false;
}

describe("byte ranges of the input (property)", () => {
  it("hand every line to exactly one range, in order, whatever the cuts, line lengths and read-ahead", () => {
    const line = fc.oneof({ arbitrary: fc.string({ unit: fc.constantFrom("a", "b", "{", "\r"), maxLength: 40 }), weight: 5 }, { arbitrary: fc.nat(300).map((n) => "x".repeat(n)), weight: 1 });
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 30 }), fc.boolean(), fc.array(fc.nat(20_000), { maxLength: 40 }), fc.integer({ min: 1, max: 64 }), (lines, trailing, cuts, ahead) => {
        const text = lines.join("\n") + (trailing ? "\n" : "");
        const expected = text.split("\n");
        // a final newline ends the last line: no empty line after it (nor in an empty file)
        if (expected.at(-1) === "") expected.pop();
        expect(linesByRanges(text, cuts, ahead)).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it("return undefined when the file is shorter than its stated size (it changed while read)", () => {
    const path = files.fileOf(["abc", "def"]);
    const fd = openSync(path, "r");
    try {
      expect(new RangeReader(1).read({ fd, start: 4, end: 100, size: 100 })).toBeUndefined();
    } finally {
      closeSync(fd);
    }
  });
});

describe("the parallel verifier at range edges (property)", () => {
  const lines: string[] = [];
  beforeAll(async () => {
    const log = await makeLog({ chains: 2, perChain: 30, checkpointEvery: 7 });
    for (const r of log.sdk) lines.push(toOtlpJson([r]));
  });
  const exact = (ls: string[]) => verifyRecords(readOtlpJson(ls.join("\n")), { key: KEY, publicKey, requireClosed: true });

  it("proves the healthy log with the exact verifier's result whatever the range size", async () => {
    const path = files.fileOf(lines);
    const expected = exact(lines);
    for (const chunkBytes of [13, 97, 2345, 1 << 20]) {
      for (const workers of [0, 2]) expect(await verifyFilesParallel([path], { key: KEY, publicKey, requireClosed: true, workers, chunkBytes })).toEqual(expected);
    }
  });

  it("never proves a log damaged at the first or last byte of a range, or next to it", async () => {
    const text = lines.join("\n") + "\n";
    const ops = fc.constantFrom("flip", "drop-line", "repeat-line", "swap-lines", "cut", "join-lines");
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 200, max: 6000 }), fc.nat(200), fc.integer({ min: -2, max: 2 }), ops, fc.boolean(), async (chunkBytes, k, d, op, parallel) => {
        const at = Math.min(text.length - 1, Math.max(0, ((k * chunkBytes) % text.length) + d));
        const damaged = damage(text, at, op);
        if (damaged === text) return;
        const path = files.fileOf([]);
        writeFileSync(path, damaged);
        let expected: ReturnType<typeof verifyRecords> | "throws";
        try {
          expected = verifyRecords(readOtlpJson(damaged), { key: KEY, publicKey, requireClosed: true });
        } catch {
          expected = "throws";
        }
        const result = await verifyFilesParallel([path], { key: KEY, publicKey, requireClosed: true, workers: parallel ? 2 : 0, chunkBytes });
        if (result === undefined) return; // the exact verifier judges it
        expect(expected).not.toBe("throws");
        expect(result).toEqual(expected);
        expect(result.ok).toBe(true);
      }),
      { numRuns: 100 },
    );
  });
});

/** `text` damaged at byte `at` (ASCII: bytes are characters): one byte changed, or the line holding it dropped, repeated, swapped with the next, cut there, or joined to the next. */
function damage(text: string, at: number, op: string): string {
  const start = text.lastIndexOf("\n", at - 1) + 1;
  const end = text.indexOf("\n", at) + 1 || text.length;
  const next = text.indexOf("\n", end) + 1 || text.length;
  switch (op) {
    case "flip":
      return text.slice(0, at) + (text[at] === "1" ? "2" : text[at] === "\n" ? " " : "1") + text.slice(at + 1);
    case "drop-line":
      return text.slice(0, start) + text.slice(end);
    case "repeat-line":
      return text.slice(0, end) + text.slice(start, end) + text.slice(end);
    case "swap-lines":
      return text.slice(0, start) + text.slice(end, next) + text.slice(start, end) + text.slice(next);
    case "cut":
      return text.slice(0, at);
    default:
      return text.slice(0, end - 1) + text.slice(end);
  }
}
