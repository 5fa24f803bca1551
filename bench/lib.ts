import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { GCProfiler, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/**
 * One named figure of bench/results.json. `ci` is the bootstrap 95 % interval of `value` (a
 * median); `ratio_ci` that of `ratio`; `noise_ok` whether the run's control pair held.
 */
export interface Figure {
  value: number;
  unit: string;
  baseline?: number;
  ratio?: number;
  ci?: [number, number];
  ratio_ci?: [number, number];
  noise_ok?: boolean;
  [extra: string]: unknown;
}

const RESULTS = fileURLToPath(new URL("./results.json", import.meta.url));

/** Merges figures into bench/results.json, so each benchmark script adds its own names. */
export function writeFigures(figures: Record<string, Figure>): void {
  let current: Record<string, Figure> = {};
  try {
    current = JSON.parse(readFileSync(RESULTS, "utf8"));
  } catch {
    // first run: no file yet
  }
  const merged = { ...current, ...figures };
  const sorted = Object.fromEntries(Object.entries(merged).sort(([a], [b]) => a.localeCompare(b)));
  writeFileSync(RESULTS, JSON.stringify(sorted, null, 2) + "\n");
}

export const median = (values: number[]): number => {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

/** A small seeded PRNG (mulberry32): the same resamples every run, so CIs are reproducible. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const RESAMPLES = 2000;
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))];

/** Percentile bootstrap 95 % interval of the median of `values`. */
export function bootstrapMedianCI(values: number[], seed = 1): [number, number] {
  const rnd = random(seed);
  const n = values.length;
  const medians: number[] = [];
  const pick = new Array<number>(n);
  for (let r = 0; r < RESAMPLES; r++) {
    for (let i = 0; i < n; i++) pick[i] = values[Math.floor(rnd() * n)];
    medians.push(median(pick));
  }
  medians.sort((a, b) => a - b);
  return [quantile(medians, 0.025), quantile(medians, 0.975)];
}

/**
 * Paired bootstrap 95 % interval of median(a) / median(b): rounds are resampled together, so
 * a slow round (the machine busy) moves both variants, as it did when measured.
 */
export function bootstrapRatioCI(a: number[], b: number[], seed = 2): [number, number] {
  const rnd = random(seed);
  const n = Math.min(a.length, b.length);
  const ratios: number[] = [];
  const pa = new Array<number>(n);
  const pb = new Array<number>(n);
  for (let r = 0; r < RESAMPLES; r++) {
    for (let i = 0; i < n; i++) {
      const j = Math.floor(rnd() * n);
      pa[i] = a[j];
      pb[i] = b[j];
    }
    ratios.push(median(pa) / median(pb));
  }
  ratios.sort((x, y) => x - y);
  return [quantile(ratios, 0.025), quantile(ratios, 0.975)];
}

/**
 * The median of the per-round ratios a[i] / b[i], with a bootstrap 95 % interval. The two samples
 * of a round were taken within a second or so, so a slow spell of the machine moves that round's
 * ratio, while a ratio of two medians can pick its two medians from different spells.
 */
export function pairedRatio(a: number[], b: number[], seed = 4): Stat {
  const ratios = a.slice(0, b.length).map((x, i) => x / b[i]);
  return { median: median(ratios), ci: bootstrapMedianCI(ratios, seed) };
}

/** Per-operation samples of one variant, one entry per round. */
export interface Samples {
  /** Wall time per op, µs (the ops only). */
  wall: number[];
  /** CPU time (user + system) per op, µs, including the work the ops left behind (`settle`). */
  cpu: number[];
  /** V8 heap bytes allocated per op, including `settle`. */
  alloc: number[];
}

export interface Stat {
  median: number;
  ci: [number, number];
}

export interface VariantStats {
  wall: Stat;
  cpu: Stat;
  alloc: Stat;
  samples: Samples;
}

export interface Variant {
  /** Runs `ops` operations one after another (the timed part). */
  run: (ops: number) => Promise<void> | void;
  /** Untimed preparation before each round (e.g. sessions for sign-outs to end). */
  prepare?: (ops: number) => Promise<void> | void;
  /**
   * Waits for the background work the ops started (store writes, exports): counted in CPU and
   * allocation, not in wall time, so work moved off the request path is still paid for honestly.
   */
  settle?: () => Promise<void> | void;
}

export interface InterleaveOptions {
  rounds?: number;
  ops?: number;
  warmup?: number;
  /**
   * Operations a variant runs, unmeasured, right before each of its blocks (only for variants
   * without `prepare`). With several variants taking turns and a full GC before each block, V8
   * ages out and recompiles the code of the variant that waited, so a block of a few µs per op
   * would time the recompilation; a server running the same code all the time never pays it.
   */
  warmOps?: number;
  /**
   * The control pair: two identical variants that run back to back in every round (which one
   * first alternates from one design cycle to the next), so both blocks meet the same spell of the
   * machine and their per-round ratio is the harness's own noise, not the neighbours' load.
   */
  twins?: [string, string];
}

/**
 * Bytes the V8 heap allocated between `start()` and `stop()`: the growth of the used heap plus
 * what every garbage collection in between freed (GCProfiler reports used size before and after).
 * Counts JS objects and strings; not ArrayBuffer backing stores or native memory.
 */
function allocationMeter() {
  const profiler = new GCProfiler();
  let before = 0;
  return {
    start() {
      profiler.start();
      before = usedHeap();
    },
    stop(): number {
      const after = usedHeap();
      const result = profiler.stop();
      let freed = 0;
      for (const gc of result?.statistics ?? []) freed += gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize;
      return after - before + freed;
    },
  };
}

import { getHeapStatistics } from "node:v8";
const usedHeap = () => getHeapStatistics().used_heap_size;

/** A seeded random permutation of 0 … n−1 (Fisher–Yates). */
function shuffled(n: number, rnd: () => number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/**
 * The orders of `rounds` rounds of n variants, balanced for position and for neighbour (a
 * Williams design): in every cycle of n rounds (2n when n is odd) each variant runs once in each
 * position and right after each other variant once. A block can carry a cost into the next one
 * (the heap and the JIT state a heavy variant leaves); plain random orders let one variant follow
 * the heavy one far more often than its twin (the same seed, so in every run). Each cycle relabels
 * the variants and shuffles its rows at random (seeded), which keeps the balance.
 */
export function balancedOrders(n: number, rounds: number, rnd: () => number): number[][] {
  const base = Array.from({ length: n }, (_, k) => (k % 2 ? (k + 1) >> 1 : (n - (k >> 1)) % n)); // 0, 1, n−1, 2, n−2 …
  const rows = Array.from({ length: n }, (_, i) => base.map((x) => (x + i) % n));
  if (n % 2) rows.push(...rows.map((row) => [...row].reverse()));
  const orders: number[][] = [];
  while (orders.length < rounds) {
    const label = shuffled(n, rnd);
    for (const r of shuffled(rows.length, rnd)) orders.push(rows[r].map((x) => label[x]));
  }
  return orders.slice(0, rounds);
}

/**
 * A full garbage collection between samples, so one variant's garbage is not collected inside
 * the next one's timing (V8's gc() exposed at run time, as benchmark harnesses do).
 */
const collectGarbage: () => void = (() => {
  try {
    setFlagsFromString("--expose-gc");
    return runInNewContext("gc") as () => void;
  } catch {
    return () => {};
  }
})();

/**
 * Runs the variants interleaved for `warmup + rounds` rounds: in each round every variant runs
 * `ops` operations, in a fresh (seeded) random order, so neither the machine's drift nor a
 * position or a neighbour favours one of them; the heap is collected before each sample. Each
 * round gives one sample per variant: wall µs/op, CPU µs/op (process.cpuUsage) and heap bytes/op.
 */
export async function interleave<K extends string>(
  variants: Record<K, Variant | ((ops: number) => Promise<void> | void)>,
  { rounds = 15, ops = 1000, warmup = 3, warmOps = 0, twins }: InterleaveOptions = {},
): Promise<Record<K, VariantStats>> {
  const entries = (Object.entries(variants) as Array<[K, Variant | ((ops: number) => Promise<void> | void)]>).map(
    ([k, v]) => [k, typeof v === "function" ? { run: v } : v] as [K, Variant],
  );
  const samples = Object.fromEntries(entries.map(([k]) => [k, { wall: [], cpu: [], alloc: [] } as Samples])) as Record<K, Samples>;
  const meter = allocationMeter();
  const rnd = random(0x5eed);
  // the twins share one slot of the design; every other variant has a slot of its own
  const [first, second] = (twins ?? []).map((t) => entries.findIndex(([k]) => k === t));
  if (twins && (first < 0 || second < 0 || first === second)) throw new Error(`interleave: twins ${twins.join(", ")} are not two of the variants`);
  const slots = entries.map((_, i) => i).filter((i) => twins === undefined || i !== second);
  const cycle = slots.length % 2 ? 2 * slots.length : slots.length;
  const expand = (order: number[], k: number) =>
    order.flatMap((slot) => (twins !== undefined && slots[slot] === first ? (Math.floor(k / cycle) % 2 ? [second, first] : [first, second]) : [slots[slot]]));
  const orders = [
    ...Array.from({ length: warmup }, (_, k) => expand(shuffled(slots.length, rnd), k)),
    ...balancedOrders(slots.length, rounds, rnd).map(expand),
  ];
  // every variant's background work (exports, store writes, end-of-turn work, the immediates it
  // queued) is done before a block starts, so none of it runs in, or is charged to, another block
  const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
  const settleAll = async () => {
    for (const [, v] of entries) await v.settle?.();
    await turn();
  };
  for (let round = 0; round < warmup + rounds; round++) {
    for (const [, v] of entries) await v.prepare?.(ops);
    const order = orders[round];
    for (let i = 0; i < entries.length; i++) {
      const [name, v] = entries[order[i]];
      if (warmOps > 0 && !v.prepare) await v.run(warmOps);
      await settleAll();
      // the garbage of the variant before is collected now, not inside this one's timing
      collectGarbage();
      meter.start();
      const cpu0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      await v.run(ops);
      const t1 = process.hrtime.bigint();
      // what the block left for the next turns (its settle step, and the immediates that queued) is its own cost
      await v.settle?.();
      await turn();
      const cpu = process.cpuUsage(cpu0);
      const bytes = meter.stop();
      if (round < warmup) continue;
      samples[name].wall.push(Number(t1 - t0) / 1000 / ops);
      samples[name].cpu.push((cpu.user + cpu.system) / ops);
      samples[name].alloc.push(bytes / ops);
    }
  }
  return Object.fromEntries(
    entries.map(([k]) => {
      const s = samples[k];
      const stat = (values: number[], seed: number): Stat => ({ median: median(values), ci: bootstrapMedianCI(values, seed) });
      return [k, { wall: stat(s.wall, 1), cpu: stat(s.cpu, 2), alloc: stat(s.alloc, 3), samples: s }];
    }),
  ) as Record<K, VariantStats>;
}

/** The control pair's limits: the same variant measured twice must agree within 2 %. */
export const CONTROL_LIMITS: [number, number] = [0.98, 1.02];

export const controlHolds = (ratio: number): boolean => ratio >= CONTROL_LIMITS[0] && ratio <= CONTROL_LIMITS[1];

/**
 * Runs `measure` until its control ratio lies within CONTROL_LIMITS, at most `attempts` times
 * (env BENCH_ATTEMPTS, default 3). Returns the last attempt, marked void when none held.
 */
export async function untilQuiet<T extends { control: number }>(
  label: string,
  measure: (attempt: number) => Promise<T>,
  attempts = Number(process.env.BENCH_ATTEMPTS ?? 3),
): Promise<T & { noiseOk: boolean; attempts: number }> {
  let last: T | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    last = await measure(attempt);
    const ok = controlHolds(last.control);
    console.log(
      `${label}: attempt ${attempt}/${attempts}: control ratio ${last.control.toFixed(4)} ${ok ? "within" : "OUTSIDE"} [${CONTROL_LIMITS.join(", ")}]` +
        (ok ? "" : attempt < attempts ? " — too noisy, measuring again" : " — RUN VOID: the machine was too noisy for these figures"),
    );
    if (ok) return { ...last, noiseOk: true, attempts: attempt };
  }
  return { ...last!, noiseOk: false, attempts };
}

/**
 * A figure comparing a variant with its baseline: medians of wall time, with CIs. `ratio` is the
 * ratio of the medians, or with `perRound` the median of the per-round ratios (pairedRatio).
 */
export function ratioFigure(value: VariantStats, baseline: VariantStats, noiseOk: boolean, unit = "µs/request", perRound = false): Figure {
  const paired = perRound ? pairedRatio(value.samples.wall, baseline.samples.wall) : undefined;
  return {
    value: round(value.wall.median),
    unit,
    baseline: round(baseline.wall.median),
    ratio: round(paired?.median ?? value.wall.median / baseline.wall.median, 4),
    ci: value.wall.ci.map((x) => round(x)) as [number, number],
    baseline_ci: baseline.wall.ci.map((x) => round(x)),
    ratio_ci: (paired?.ci ?? bootstrapRatioCI(value.samples.wall, baseline.samples.wall)).map((x) => round(x, 4)) as [number, number],
    cpu_us: round(value.cpu.median),
    baseline_cpu_us: round(baseline.cpu.median),
    cpu_ratio: round(value.cpu.median / baseline.cpu.median, 4),
    alloc_bytes: Math.round(value.alloc.median),
    baseline_alloc_bytes: Math.round(baseline.alloc.median),
    noise_ok: noiseOk,
  };
}

export const round = (x: number, digits = 2): number => Number(x.toFixed(digits));

/** One table row per variant: wall, CPU and allocation medians with CIs, and the ratio to `baseline`. */
export function statsTable<K extends string>(stats: Record<K, VariantStats>, baseline: K): Array<Record<string, string>> {
  const b = stats[baseline];
  const digits = (x: number) => (x < 100 ? 2 : 0);
  const ci = (s: Stat) => `${s.median.toFixed(digits(s.median))} [${s.ci[0].toFixed(digits(s.median))}–${s.ci[1].toFixed(digits(s.median))}]`;
  return (Object.entries(stats) as Array<[K, VariantStats]>).map(([name, s]) => {
    const r = bootstrapRatioCI(s.samples.wall, b.samples.wall);
    const paired = pairedRatio(s.samples.wall, b.samples.wall);
    return {
      variant: name,
      "wall µs [95% CI]": ci(s.wall),
      "ratio [95% CI]": `${(s.wall.median / b.wall.median).toFixed(3)} [${r[0].toFixed(3)}–${r[1].toFixed(3)}]`,
      "per-round ratio [95% CI]": `${paired.median.toFixed(3)} [${paired.ci[0].toFixed(3)}–${paired.ci[1].toFixed(3)}]`,
      "CPU µs": ci(s.cpu),
      "CPU ratio": (s.cpu.median / b.cpu.median).toFixed(3),
      "heap KB/op": (s.alloc.median / 1024).toFixed(1),
    };
  });
}

export function printTable(rows: Array<Record<string, string | number>>): void {
  console.table(rows);
}
