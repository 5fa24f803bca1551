import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createTestAudit } from "otel-auth-audit/testing";
import { isServerOnlyAction } from "../../src/action-names.js";

// Latin letters and the Cyrillic/Greek letters a person reads as them
const TWINS: Record<string, string[]> = { a: ["а", "α"], o: ["о", "ο"], p: ["р", "ρ"], e: ["е"], c: ["с"], s: ["ѕ"], i: ["і", "ι"], k: ["к", "κ"], t: ["т", "τ"], x: ["х"], y: ["у"], d: ["ԁ"], m: ["м"], n: ["η"], b: ["в"] };

/** A spelling of `word` with some letters swapped for lookalikes of other scripts. */
const lookalikeOf = (word: string) =>
  fc.tuple(...[...word].map((ch) => (TWINS[ch] ? fc.constantFrom(ch, ...TWINS[ch]) : fc.constant(ch)))).map((chars) => chars.join(""));

describe("lookalike letters of other scripts", () => {
  it("a secret under a key spelt with Cyrillic or Greek lookalikes (раssword, tоken) is redacted", async () => {
    const t = createTestAudit();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("password", "token", "secret", "apikey", "otp").chain(lookalikeOf), async (key) => {
        t.reset();
        await t.audit.record({ action: "sign-in:email", outcome: "failure", metadata: { [key]: "canary-lookalike-9f2" } });
        expect(JSON.stringify(t.records().map((r) => [r.body, r.attributes]))).not.toContain("canary-lookalike-9f2");
      }),
      { numRuns: 60 },
    );
    await t.shutdown();
  });

  it("an action spelt with lookalikes of admin or brute-force is still server-only", () => {
    fc.assert(
      fc.property(fc.oneof(lookalikeOf("admin:ban-user"), lookalikeOf("brute-force:suspected"), lookalikeOf("audit:export")), (action) => {
        expect(isServerOnlyAction(action)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
