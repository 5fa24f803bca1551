/**
 * The redactor remembers values it found clean (bounded) and does not scan them again: only while
 * every pattern is a default scanner with its default precheck, pure functions of the text. A
 * caller's matcher or precheck is asked again for every value, whatever it answered before.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_REDACT_PATTERNS, RedactionProcessor } from "../src/processors/redaction.js";

describe("RedactionProcessor: values remembered clean", () => {
  it("redacts a value the same way every time, clean or not, and as an error code", () => {
    const p = new RedactionProcessor();
    const values = ["Mozilla/5.0 (X11; Linux x86_64)", "mail jane@example.com now", "/sign-in/email", "Bearer abc.def.ghi"];
    const first = values.map((v) => p.redactValue(v));
    for (let i = 0; i < 3; i++) expect(values.map((v) => p.redactValue(v))).toEqual(first);
    expect(first[1]).toBe("mail [REDACTED] now");
  });

  it("asks a caller's matcher again for a value it passed before", () => {
    const secrets = new Set<string>();
    const p = new RedactionProcessor({ extraPatterns: [{ name: "revoked", match: (s) => (secrets.has(s) ? [[0, s.length]] : []) }] });
    expect(p.redactValue("value-abc-123")).toBe("value-abc-123");
    secrets.add("value-abc-123");
    expect(p.redactValue("value-abc-123")).toBe("[REDACTED]");
  });

  it("asks a caller's precheck on a default scanner again", () => {
    let armed = false;
    const email = DEFAULT_REDACT_PATTERNS.find((x) => x.name === "email")!;
    const p = new RedactionProcessor({ patterns: [{ ...email, precheck: () => armed }] });
    expect(p.redactValue("to jane@example.com")).toBe("to jane@example.com");
    armed = true;
    expect(p.redactValue("to jane@example.com")).toBe("to [REDACTED]");
  });
});
