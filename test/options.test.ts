import { describe, expect, it } from "vitest";
import * as z from "zod";
import { AuditOptionsError } from "../src/errors.js";
import { parseOptions } from "../src/options.js";

const schema = z.strictObject({
  overflow: z.enum(["drop-oldest", "reject"]).optional(),
  nested: z.strictObject({ batchSize: z.number().int().positive().optional() }).optional(),
});

describe("parseOptions", () => {
  it("returns the parsed options", () => {
    expect(parseOptions("Thing", schema, { overflow: "reject" })).toEqual({ overflow: "reject" });
    expect(parseOptions("Thing", schema, undefined)).toEqual({});
  });

  it.each([
    [{ overflow: "block" }, "overflow", /one of "drop-oldest", "reject"/],
    [{ nested: { batchSize: 0 } }, "nested.batchSize", /invalid/],
    [{ nested: { batchSize: "8" } }, "nested.batchSize", /invalid/],
    [{ overflw: "reject" }, "overflw", /not an option/],
    [{ nested: { batch: 1 } }, "nested.batch", /not an option/],
  ])("refuses %j naming %s", (value, option, message) => {
    let error: unknown;
    try {
      parseOptions("Thing", schema, value);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AuditOptionsError);
    expect((error as AuditOptionsError).option).toBe(option);
    expect((error as AuditOptionsError).where).toBe("Thing");
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain(`\`${option}\``);
  });
});

describe("parseOptions on a union", () => {
  it("names what each branch accepts when no branch takes the value", () => {
    const scopes = z.strictObject({ scopes: z.union([z.literal("all"), z.array(z.string())]).optional() });
    expect(() => parseOptions("Thing", scopes, { scopes: "otel-auth-audit" })).toThrow(/`scopes` is invalid: expected "all" or a value of type array/);
  });
});
