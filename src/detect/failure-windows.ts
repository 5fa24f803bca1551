import { LRUCache } from "lru-cache";

/**
 * Sliding windows of failure times per key, bounded: at most `maxKeys` keys (least recently seen
 * evicted first) and at most `limit + 1` timestamps per key, since nothing beyond the threshold
 * is needed to decide a breach.
 */
export interface WindowState {
  /** Failure times inside the window, oldest first. */
  times: number[];
  /** First failure of the current burst (kept after `times` is trimmed to its cap). */
  firstSeen: number;
  /** A signal was raised for this burst; no other until the window clears. */
  signalled: boolean;
}

export class FailureWindows {
  // lru-cache, not a Map used as an LRU: evicting a Map's first key repeatedly leaves holes that
  // every later eviction walks (measured: 160 µs an event once full)
  readonly #windows: LRUCache<string, WindowState>;

  constructor(
    readonly windowMs: number,
    readonly limit: number,
    readonly maxKeys: number,
  ) {
    this.#windows = new LRUCache({ max: maxKeys });
  }

  get size(): number {
    return this.#windows.size;
  }

  /** Adds a failure at `now`; returns the key's state after pruning what fell out of the window. */
  add(key: string, now: number): WindowState {
    let state = this.#windows.get(key);
    if (state) prune(state, now - this.windowMs);
    if (!state || state.times.length === 0) {
      state = { times: [], firstSeen: now, signalled: false };
      this.#windows.set(key, state);
    }
    state.times.push(now);
    if (state.times.length > this.limit + 1) state.times.shift();
    return state;
  }
}

function prune(state: WindowState, cutoff: number): void {
  let drop = 0;
  while (drop < state.times.length && state.times[drop] <= cutoff) drop++;
  if (drop > 0) state.times.splice(0, drop);
}
