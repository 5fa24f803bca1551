/**
 * The parallel verifier's worker threads (./parallel-worker.ts): a task is posted at once to the
 * worker with the fewest tasks outstanding, so a worker finds its next task queued when it answers
 * one instead of idling for a round trip through the main thread (which may be folding a Merkle
 * tree meanwhile: up to 7 % of each worker's time went idle that way). A worker answers its tasks
 * in the order they were posted.
 */
import { Worker } from "node:worker_threads";
import type { ChunkResult } from "./chunk.js";
import type { RangeTask } from "./parallel-worker.js";

/**
 * The worker file next to this one: .ts when running from source (through tsx), .js when built.
 * The built worker starts with no flags of the parent's: it runs only this package's code and
 * node's, and a loader the app was started with (tsx, an instrumentation's --import) would only
 * cost each worker its start-up time again.
 */
function workerUrl(): { url: URL; execArgv: string[] } {
  const self = import.meta.url;
  if (self.endsWith(".ts")) return { url: new URL("./parallel-worker.ts", self), execArgv: [...process.execArgv.filter((a) => !a.startsWith("--cpu-prof")), "--import", "tsx"] };
  return { url: new URL("./parallel-worker.js", self), execArgv: [] };
}

/**
 * `count` workers started with `workerData`; `run` resolves with a task's answer. A worker that
 * fails (an uncaught error, or it exits) rejects every task it holds and every task given to it
 * afterwards, at once: nothing waits on a thread that will never answer.
 */
export function workerPool(count: number, workerData: unknown, script = workerUrl()) {
  const workers = Array.from({ length: count }, () => {
    const worker = new Worker(script.url, { workerData, execArgv: script.execArgv });
    const entry = { worker, pending: [] as Array<{ resolve: (r: ChunkResult) => void; reject: (e: Error) => void }>, failed: undefined as Error | undefined };
    worker.on("message", (r: ChunkResult) => entry.pending.shift()?.resolve(r));
    const fail = (error: Error) => {
      entry.failed ??= error;
      for (const p of entry.pending.splice(0)) p.reject(entry.failed);
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`a verify worker exited (code ${code}) with tasks outstanding`)));
    return entry;
  });
  return {
    run(task: RangeTask): Promise<ChunkResult> {
      let w = workers[0];
      for (const other of workers) if (other.pending.length < w.pending.length) w = other;
      if (w.failed) return Promise.reject(w.failed);
      return new Promise<ChunkResult>((resolve, reject) => {
        w.pending.push({ resolve, reject });
        w.worker.postMessage(task);
      });
    },
    close: () => Promise.all(workers.map((w) => w.worker.terminate())),
  };
}
