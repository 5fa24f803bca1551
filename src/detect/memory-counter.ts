import type { SharedFailureCounter } from "./brute-force.js";

/**
 * A SharedFailureCounter in one process: the reference for a Redis or database one (a sorted set
 * per key: ZADD now, ZREMRANGEBYSCORE ≤ now − window, ZCARD, EXPIRE window), and a way to test
 * several detectors sharing a store.
 */
export class MemoryFailureCounter implements SharedFailureCounter {
  readonly #times = new Map<string, number[]>();

  async add(key: string, now: number, windowMs: number): Promise<number> {
    const times = (this.#times.get(key) ?? []).filter((t) => t > now - windowMs);
    times.push(now);
    this.#times.set(key, times);
    return times.length;
  }
}
