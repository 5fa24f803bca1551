import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { uuidv7 } from "../../src/uuid.js";

const SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("uuidv7", () => {
  it("100,000 consecutive ids are strictly increasing, unique and well formed", () => {
    let prev = uuidv7();
    for (let i = 0; i < 100_000; i++) {
      const id = uuidv7();
      expect(SHAPE.test(id)).toBe(true);
      if (!(id > prev)) expect.fail(`id ${i} (${id}) does not sort after ${prev}`);
      prev = id;
    }
  });

  it("carries the creation millisecond when the clock moves forward", () => {
    const now = Date.now() + 10_000;
    const id = uuidv7(now);
    expect(parseInt(id.replace(/-/g, "").slice(0, 12), 16)).toBe(now);
  });

  it("stays monotonic whatever the clock does (steps back, stands still, jumps)", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -86_400_000, max: 86_400_000 }).map((d) => Date.now() + d), { minLength: 2, maxLength: 300 }), (clock) => {
        let prev = uuidv7(clock[0]);
        for (const now of clock.slice(1)) {
          const id = uuidv7(now);
          if (!(id > prev)) return false;
          prev = id;
        }
        return true;
      }),
    );
  });
});
