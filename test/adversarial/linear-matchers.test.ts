/**
 * Quadratic patterns (issue #12): every value pattern runs in linear time on any input. Each
 * matcher gets crafted inputs of 50 KB and 200 KB (runs of the characters it is built around);
 * linear work grows ~4×, quadratic ~16×. The bound (10×) leaves room for a noisy machine and still
 * tells the two apart (below ~50 KB, CPU cache effects blur small ratios). The old e-mail regex
 * took ~0.5 s on 15 KB.
 */
import { describe, expect, it } from "vitest";
import { base64Matcher, bearerMatcher, cardMatcher, emailMatcher, hexMatcher, jwtMatcher, type Matcher } from "../../src/processors/matchers.js";
import { RedactionProcessor } from "../../src/processors/redaction.js";

/** Inputs that make a naive matcher backtrack: repeated fragments of what it looks for. */
const FAMILIES: Record<string, string[]> = {
  email: ["a", "a@", "a@a.", "@a", ".@", "a.a", "\"a\"@", "%40a", "a＠ｂ．", "ü@ü.", "a@a-"],
  bearer: ["bearer ", "Bearer a", "basic  ", "bearerbearer"],
  jwt: ["eyJ", "eyJaaaaaaaa.", "eyJaaaaaaaa.aaaaa.", ".eyJ"],
  hex: ["0a", "0a ", "0123456789abcdef"],
  base64: ["aA0", "aA0+", "aA0=", "="],
  card: ["4", "4 ", "4-", "4242 ", "42 42-"],
  pairs: ["a=", "&token=", "token=a&", "\"a\":", "\"token\": \"", "%5B=", "= "],
};

const MATCHERS: Record<string, Matcher> = {
  email: emailMatcher,
  bearer: bearerMatcher,
  jwt: jwtMatcher,
  hex: hexMatcher,
  base64: base64Matcher,
  card: cardMatcher,
};

// the pairs scanner and JSON handling live in the processor: measured through it, bounds raised
const processor = new RedactionProcessor({ limits: { maxStringLength: 1 << 20, maxTotalLength: 1 << 22 } });
const pairs: Matcher = (s) => {
  processor.redactValue(s);
  return [];
};

/** The fastest of a few runs: noise only ever adds time. */
function timeOf(find: Matcher, input: string): number {
  find(input); // warm up
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    find(input);
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

describe("value patterns are linear", () => {
  for (const [name, fragments] of Object.entries(FAMILIES)) {
    it(`${name}: 200 KB costs about 4× 50 KB (never 16×), and 50 KB stays under 100 ms`, () => {
      const find = name === "pairs" ? pairs : MATCHERS[name]!;
      for (const fragment of fragments) {
        const small = fragment.repeat(Math.ceil(50_000 / fragment.length));
        const large = fragment.repeat(Math.ceil(200_000 / fragment.length));
        const t50 = timeOf(find, small);
        const a = Math.max(t50, 0.2); // below this, a ratio measures the timer
        const b = timeOf(find, large);
        expect(b / a, `${name} on ${JSON.stringify(fragment)}: ${a.toFixed(2)} ms → ${b.toFixed(2)} ms`).toBeLessThan(10);
        expect(t50, `${name} on 50 KB of ${JSON.stringify(fragment)}`).toBeLessThan(100);
      }
    });
  }
});
