/**
 * Quadratic patterns (issue #12): every value pattern runs in linear time on any input. Each
 * matcher gets crafted inputs of 25 KB and 400 KB (runs of the characters it is built around);
 * linear work grows ~16×, quadratic ~256×. The bound (100×) leaves a wide margin for a noisy shared
 * machine and cache effects, and still tells the two apart. Small and large runs are interleaved
 * and the fastest of each kept (noise only adds time). The old e-mail regex took ~0.5 s on 15 KB.
 */
import { describe, expect, it } from "vitest";
import { base64Matcher, bearerMatcher, cardMatcher, emailMatcher, hexMatcher, jwtMatcher, type Matcher } from "../../src/processors/matchers.js";
import { RedactionProcessor } from "../../src/processors/redaction.js";

/** Inputs that make a naive matcher backtrack: repeated fragments of what it looks for. */
const FAMILIES: Record<string, string[]> = {
  email: ["a", "a@", "a@a.", "@a", ".@", "a.a", "\"a\"@", "%40a", "a＠ｂ．", "ü@ü.", "a@a-", "a\u200b", "a\u200b@", "@\u200b", "%2540a", "&#64;a", "&#x40", "\\u0040a", "&commat;a.", "\u202e@a."],
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

/** The fastest of interleaved runs of two inputs: load from elsewhere hits both alike. */
function timesOf(find: Matcher, small: string, large: string): [number, number] {
  find(small);
  find(large); // warm up
  let a = Number.POSITIVE_INFINITY;
  let b = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 5; i++) {
    let t0 = performance.now();
    find(small);
    a = Math.min(a, performance.now() - t0);
    t0 = performance.now();
    find(large);
    b = Math.min(b, performance.now() - t0);
  }
  return [a, b];
}

describe("value patterns are linear", () => {
  for (const [name, fragments] of Object.entries(FAMILIES)) {
    it(`${name}: 400 KB costs about 16× 25 KB (never 256×), and 50 KB stays under 100 ms`, () => {
      const find = name === "pairs" ? pairs : MATCHERS[name]!;
      for (const fragment of fragments) {
        const small = fragment.repeat(Math.ceil(25_000 / fragment.length));
        const large = fragment.repeat(Math.ceil(400_000 / fragment.length));
        const [t25, t400] = timesOf(find, small, large);
        const a = Math.max(t25, 0.1); // below this, a ratio measures the timer
        expect(t400 / a, `${name} on ${JSON.stringify(fragment)}: ${t25.toFixed(2)} ms → ${t400.toFixed(2)} ms`).toBeLessThan(100);
        expect(t400 / 8, `${name}: 50 KB of ${JSON.stringify(fragment)} (an eighth of 400 KB)`).toBeLessThan(100);
      }
    });
  }
});
