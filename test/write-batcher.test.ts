/**
 * The store's batch writer under injected faults: whatever the batch sizes, timings and failures,
 * every record ends up either stored once or reported once (never both, never neither), in emit
 * order, and the retry budget is the promised one.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { diag } from "@opentelemetry/api";
import { WriteBatcher } from "../src/store/write-batcher.js";

interface Item {
  id: string;
  /** How many attempts fail before one succeeds (Infinity: never). */
  failures: number;
}

/** A table with transaction semantics: a batch is stored whole or not at all. */
function fakeTable() {
  const stored: string[] = [];
  const attempts = new Map<string, number>();
  const attempt = (item: Item) => {
    const n = (attempts.get(item.id) ?? 0) + 1;
    attempts.set(item.id, n);
    return n > item.failures;
  };
  return {
    stored,
    attempts,
    async writeBatch(items: Item[]) {
      await Promise.resolve();
      const ok = items.map(attempt).every(Boolean);
      if (!ok) throw new Error("batch failed");
      stored.push(...items.map((i) => i.id));
    },
    async writeOne(item: Item) {
      await Promise.resolve();
      if (!attempt(item)) throw new Error(`row ${item.id} failed`);
      stored.push(item.id);
    },
  };
}

describe("WriteBatcher", () => {
  it("each record is stored once or reported once, in order, within the retry budget (property)", async () => {
    diag.disable();
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.constantFrom(0, 0, 0, 1, 2, 3, 4), fc.constant(Number.POSITIVE_INFINITY)), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 3 }),
        fc.array(fc.nat({ max: 5 }), { minLength: 1, maxLength: 6 }),
        async (failures, maxBatch, flushIntervalMs, chunks) => {
          const table = fakeTable();
          const reported: string[] = [];
          const batcher = new WriteBatcher<Item>({
            maxBatch,
            flushIntervalMs,
            retryBaseDelayMs: 0,
            idOf: (i) => i.id,
            writeBatch: (items) => table.writeBatch(items),
            writeOne: (item) => table.writeOne(item),
            onFailure: (_e, item) => reported.push(item.id),
          });
          const items = failures.map((f, i) => ({ id: `r${i}`, failures: f }));
          const waits: Array<Promise<unknown>> = [];
          // arrive in chunks, some while earlier batches are being written
          let next = 0;
          for (const size of chunks) {
            const chunk = items.slice(next, next + size);
            next += size;
            batcher.add(chunk);
            for (const item of chunk) waits.push(batcher.whenStored(item.id));
            await new Promise((r) => setTimeout(r, size % 2));
          }
          batcher.add(items.slice(next));
          for (const item of items.slice(next)) waits.push(batcher.whenStored(item.id));
          await batcher.flush();
          const outcomes = await Promise.all(waits);

          for (const [i, item] of items.entries()) {
            const isStored = table.stored.filter((id) => id === item.id).length;
            const isReported = reported.filter((id) => id === item.id).length;
            expect(isStored + isReported, item.id).toBe(1);
            expect(outcomes[i] === undefined, item.id).toBe(isStored === 1);
            // 3 attempts for a batch, then one alone: at most 4, never fewer than 3 before giving up
            const tries = table.attempts.get(item.id) ?? 0;
            expect(tries).toBeLessThanOrEqual(4);
            if (isReported) expect(tries).toBeGreaterThanOrEqual(3);
            if (item.failures <= 2) expect(isStored, `${item.id} fails ${item.failures}x`).toBe(1);
            if (item.failures >= 4) expect(isReported).toBe(1);
          }
          expect(table.stored).toEqual(items.map((i) => i.id).filter((id) => table.stored.includes(id)));
          expect(batcher.pendingCount).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("settled() waits for the batch in progress without hurrying it", async () => {
    const table = fakeTable();
    const batcher = new WriteBatcher<Item>({
      flushIntervalMs: 30,
      idOf: (i) => i.id,
      writeBatch: (items) => table.writeBatch(items),
      writeOne: (item) => table.writeOne(item),
      onFailure: () => {},
    });
    batcher.add([{ id: "a", failures: 0 }]);
    const started = Date.now();
    await batcher.settled();
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    expect(table.stored).toEqual(["a"]);
    await batcher.settled(); // nothing queued: resolves at once
  });
});
