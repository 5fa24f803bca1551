import { describe, expect, it } from "vitest";
import { workerPool } from "../src/verify/pool.js";

// A worker that answers its first task and then fails, as a worker hit by a bug or killed would.
const flaky = new URL(
  `data:text/javascript,${encodeURIComponent(`
    import { parentPort } from "node:worker_threads";
    let n = 0;
    parentPort.on("message", (task) => {
      if (n++ === 0) parentPort.postMessage({ index: task.index, records: 0, bytes: 0, runs: [], leaves: new Uint8Array(0) });
      else throw new Error("worker broke on task " + task.index);
    });
  `)}`,
);
const task = (index: number) => ({ index, fd: 0, start: 0, end: 0, size: 0 });

describe("the parallel verifier's worker pool", () => {
  it("answers in order, and a failing worker rejects what it holds and everything given to it afterwards instead of leaving it waiting", async () => {
    const pool = workerPool(1, undefined, { url: flaky, execArgv: [] });
    try {
      const first = pool.run(task(0));
      const held = pool.run(task(1));
      const queued = pool.run(task(2));
      held.catch(() => {});
      queued.catch(() => {});
      expect((await first).index).toBe(0);
      await expect(held).rejects.toThrow(/worker broke on task 1/);
      await expect(queued).rejects.toThrow(/worker broke on task 1/);
      // given after the failed thread has exited (its last event): rejected at once, not posted to
      // a thread that will never answer
      await new Promise((resolve) => setTimeout(resolve, 500));
      await expect(pool.run(task(3))).rejects.toThrow(/worker broke on task 1/);
    } finally {
      await pool.close();
    }
  }, 10_000);

  it("spreads tasks over the workers by what each holds", async () => {
    const echo = new URL(`data:text/javascript,${encodeURIComponent(`
      import { parentPort, threadId } from "node:worker_threads";
      parentPort.on("message", (task) => parentPort.postMessage({ index: task.index, records: threadId, bytes: 0, runs: [], leaves: new Uint8Array(0) }));
    `)}`);
    const pool = workerPool(2, undefined, { url: echo, execArgv: [] });
    try {
      const answers = await Promise.all([0, 1, 2, 3].map((i) => pool.run(task(i))));
      expect(answers.map((a) => a.index)).toEqual([0, 1, 2, 3]);
      // posted before any answer: two to each thread, alternating
      const threads = answers.map((a) => a.records);
      expect(new Set(threads).size).toBe(2);
      expect(threads[0]).toBe(threads[2]);
      expect(threads[1]).toBe(threads[3]);
    } finally {
      await pool.close();
    }
  }, 20_000);
});
