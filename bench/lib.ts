import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** One named figure of bench/results.json. */
export interface Figure {
  value: number;
  unit: string;
  baseline?: number;
  ratio?: number;
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

/**
 * Runs the variants interleaved (A B A B …) for `rounds` rounds and returns each variant's median
 * per-op time in microseconds; interleaving spreads the machine's noise over all variants alike.
 */
export async function interleave<K extends string>(
  variants: Record<K, (ops: number) => Promise<void> | void>,
  { rounds = 15, ops = 1000, warmup = 3 }: { rounds?: number; ops?: number; warmup?: number } = {},
): Promise<Record<K, number>> {
  const entries = Object.entries(variants) as Array<[K, (ops: number) => Promise<void> | void]>;
  const samples = Object.fromEntries(entries.map(([k]) => [k, [] as number[]])) as Record<K, number[]>;
  for (let round = 0; round < warmup + rounds; round++) {
    for (const [name, run] of entries) {
      const t0 = process.hrtime.bigint();
      await run(ops);
      const us = Number(process.hrtime.bigint() - t0) / 1000 / ops;
      if (round >= warmup) samples[name].push(us);
    }
  }
  return Object.fromEntries(entries.map(([k]) => [k, median(samples[k])])) as Record<K, number>;
}

export function printTable(rows: Array<Record<string, string | number>>): void {
  console.table(rows);
}
