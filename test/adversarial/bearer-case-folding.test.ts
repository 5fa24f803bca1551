/**
 * `İ` (U+0130) lower-cases to two characters: a scanner that finds the scheme in
 * `s.toLowerCase()` and reads the token at that index in `s` missed the token after it.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bearerMatcher } from "../../src/processors/matchers.js";
import { RedactionProcessor } from "../../src/processors/redaction.js";

const processor = new RedactionProcessor();

describe("bearer credentials after characters whose lower case is longer", () => {
  it("masks the token whatever comes before the scheme", () => {
    const before = fc.array(fc.constantFrom("İ", "K", "ß", "a", " ", "Σ", "ﬀ"), { maxLength: 12 }).map((a) => a.join(""));
    fc.assert(
      fc.property(before, fc.constantFrom("Bearer", "bearer", "BASIC", "Basic"), (prefix, scheme) => {
        const value = `${prefix} ${scheme} s3cr3tT0kenValue`;
        const out = processor.redactValue(value, "note") as string;
        expect(out).not.toContain("s3cr3tT0kenValue");
        expect(out).toBe(`${prefix} ${scheme} [REDACTED]`);
      }),
    );
  });

  it("gives spans of the original string", () => {
    const s = "İİİ Bearer abc.def";
    expect(bearerMatcher(s)).toEqual([[s.indexOf("abc"), s.length]]);
  });
});
