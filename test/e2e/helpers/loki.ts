import { nowNanos, queryRange, type LokiEntry } from "../../../src/store/loki.js";
import { waitFor } from "./stack.js";

/** Every entry of a LogQL query over the last `sinceMs` (default 1 h), oldest first. */
export async function lokiEntries(url: string, query: string, sinceMs = 3_600_000): Promise<LokiEntry[]> {
  const end = nowNanos() + 1n;
  const out: LokiEntry[] = [];
  for await (const page of queryRange({ url }, { query, start: end - BigInt(sinceMs) * 1_000_000n, end })) out.push(...page);
  return out;
}

/** Polls until the query returns at least `count` entries (bounded), then returns them. */
export function waitForEntries(url: string, query: string, count: number, timeoutMs = 60_000): Promise<LokiEntry[]> {
  return waitFor(`${count} entries of ${query}`, async () => {
    const entries = await lokiEntries(url, query);
    return entries.length >= count ? entries : undefined;
  }, timeoutMs, 1000);
}

/** The record JSON the collector put in the line. */
export const lineOf = (entry: LokiEntry): { attributes: Record<string, unknown>; eventName?: string; [k: string]: unknown } => JSON.parse(entry.line);
