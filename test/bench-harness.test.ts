import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { balancedOrders, bootstrapMedianCI, bootstrapRatioCI, controlHolds, interleave, median, pairedRatio, untilQuiet } from "../bench/lib.js";

describe("the benchmark harness", () => {
  it("gives a bootstrap interval that holds the median and lies within the samples", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 1, max: 1e6, noNaN: true }), { minLength: 3, maxLength: 60 }), (values) => {
        const [lo, hi] = bootstrapMedianCI(values);
        const m = median(values);
        expect(lo).toBeLessThanOrEqual(m);
        expect(hi).toBeGreaterThanOrEqual(m);
        expect(lo).toBeGreaterThanOrEqual(Math.min(...values));
        expect(hi).toBeLessThanOrEqual(Math.max(...values));
      }),
      { numRuns: 200 },
    );
  });

  it("pairs rounds in a ratio's interval: a variant that is always 10 % slower in the same round has a tight interval around 1.1", () => {
    const base = Array.from({ length: 25 }, (_, i) => 1000 + ((i * 7919) % 400)); // rounds of a noisy machine
    const [lo, hi] = bootstrapRatioCI(base.map((x) => x * 1.1), base);
    expect(lo).toBeCloseTo(1.1, 6);
    expect(hi).toBeCloseTo(1.1, 6);
  });

  it("declares a run void when the control pair never holds, and retries a bounded number of times", async () => {
    let calls = 0;
    const noisy = await untilQuiet("t", async () => ({ control: 1.05 + calls++ * 0 }), 3);
    expect(calls).toBe(3);
    expect(noisy.noiseOk).toBe(false);
    let second = 0;
    const held = await untilQuiet("t", async () => ({ control: second++ === 0 ? 0.9 : 1.01 }), 3);
    expect(held).toMatchObject({ noiseOk: true, attempts: 2 });
    expect([0.98, 1.02, 1].every(controlHolds)).toBe(true);
    expect([0.979, 1.021].some(controlHolds)).toBe(false);
  });

  it("runs every variant once per round, in orders that change, and counts the allocation of the settle step", async () => {
    const order: string[] = [];
    const stats = await interleave(
      {
        a: { run: () => void order.push("a") },
        b: { run: () => void order.push("b"), settle: () => void new Array(100_000).fill({ x: 1 }) },
        c: { run: () => void order.push("c") },
      },
      { rounds: 12, ops: 1, warmup: 0 },
    );
    const rounds = Array.from({ length: 12 }, (_, i) => order.slice(i * 3, i * 3 + 3).join(""));
    for (const r of rounds) expect([...r].sort().join("")).toBe("abc");
    // every variant is first in some round, and no order repeats every time
    for (const v of "abc") expect(rounds.some((r) => r[0] === v)).toBe(true);
    expect(new Set(rounds).size).toBeGreaterThan(2);
    expect(stats.b.alloc.median).toBeGreaterThan(500_000); // the settle step's array is counted
    expect(stats.a.alloc.median).toBeLessThan(stats.b.alloc.median);
  });

  it("balances the orders: over a whole cycle every variant holds every position and follows every other one equally often", () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    for (const n of [2, 3, 4, 5]) {
      const cycle = n % 2 ? 2 * n : n;
      const orders = balancedOrders(n, 3 * cycle, rnd);
      const position = new Map<string, number>();
      const follows = new Map<string, number>();
      for (const o of orders) {
        expect([...o].sort().join()).toBe(Array.from({ length: n }, (_, i) => i).join());
        o.forEach((v, p) => position.set(`${v}@${p}`, (position.get(`${v}@${p}`) ?? 0) + 1));
        for (let p = 1; p < n; p++) follows.set(`${o[p - 1]}>${o[p]}`, (follows.get(`${o[p - 1]}>${o[p]}`) ?? 0) + 1);
      }
      expect(position.size).toBe(n * n);
      expect(new Set(position.values())).toEqual(new Set([3 * (cycle / n)]));
      expect(follows.size).toBe(n * (n - 1));
      expect(new Set(follows.values())).toEqual(new Set([3 * (cycle / n)]));
    }
  });

  it("runs the twins back to back, each first equally often, and settles every variant's background work before a block", async () => {
    const order: string[] = [];
    let leftover = false; // work a settle step leaves for the next turn of the event loop
    const seen: boolean[] = [];
    const v = (name: string) => ({
      run: () => {
        seen.push(leftover);
        order.push(name);
      },
      settle: () => {
        leftover = true;
        setImmediate(() => {
          leftover = false;
        });
      },
    });
    await interleave({ a: v("a"), b: v("b"), c: v("c"), d: v("d"), e: v("e") }, { rounds: 16, ops: 1, warmup: 0, twins: ["a", "b"] });
    const rounds = Array.from({ length: 16 }, (_, i) => order.slice(i * 5, i * 5 + 5).join(""));
    for (const r of rounds) expect(r.includes("ab") || r.includes("ba")).toBe(true);
    expect(rounds.filter((r) => r.includes("ab")).length).toBe(8);
    expect(seen.every((x) => !x)).toBe(true);
  });

  it("takes a ratio per round: a few slow blocks move a few ratios, not the median", () => {
    const b = Array.from({ length: 21 }, (_, i) => 100 + i);
    const a = b.map((x, i) => (i % 4 === 0 ? x * 3 : x));
    expect(pairedRatio(a, b).median).toBe(1);
    expect(pairedRatio(b.map((x) => x * 1.1), b).median).toBeCloseTo(1.1, 9);
  });
});
