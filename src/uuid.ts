import { randomFillSync } from "node:crypto";

// Random bytes are drawn in blocks: one crypto call per 256 ids instead of one per id (the `uuid`
// package's v7 costs ~2–3 µs an id here, more than the rest of the audit pipeline together).
const POOL = Buffer.alloc(16 * 256);
let offset = POOL.length;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** 42-bit counter: the 12 bits of rand_a and the top 30 bits of rand_b (RFC 9562 §6.2, method 1). */
const COUNTER_BITS = 42;
const COUNTER_LIMIT = 2 ** COUNTER_BITS;
let lastMs = -Infinity;
let counter = 0;

/**
 * A UUIDv7 (RFC 9562): 48-bit Unix milliseconds, a 42-bit counter, 32 random bits. Monotonic
 * within the process: ids of one millisecond count up from a random start (its top bit clear, so
 * a millisecond holds at least 2^41 ids), a clock that steps back reuses the last millisecond,
 * and a counter that runs over moves the timestamp on by one. So ids sort by creation order.
 */
export function uuidv7(now = Date.now()): string {
  if (offset === POOL.length) {
    randomFillSync(POOL);
    offset = 0;
  }
  const b = POOL.subarray(offset, offset + 16);
  offset += 16;
  if (now > lastMs) {
    lastMs = now;
    // 41 random bits from the bytes about to be overwritten by the counter
    counter = (b[6] & 0x01) * 2 ** 40 + b[7] * 2 ** 32 + ((b[8] << 24) >>> 0) + b[9] * 2 ** 16 + b[10] * 2 ** 8 + b[11];
  } else if (++counter >= COUNTER_LIMIT) {
    lastMs++;
    counter = 0;
  }
  const ms = lastMs;
  b[0] = (ms / 2 ** 40) & 0xff;
  b[1] = (ms / 2 ** 32) & 0xff;
  b[2] = (ms >>> 24) & 0xff;
  b[3] = (ms >>> 16) & 0xff;
  b[4] = (ms >>> 8) & 0xff;
  b[5] = ms & 0xff;
  const high = Math.floor(counter / 2 ** 30); // 12 bits
  const low = counter % 2 ** 30; // 30 bits
  b[6] = 0x70 | (high >>> 8); // version 7
  b[7] = high & 0xff;
  b[8] = 0x80 | (low >>> 24); // variant 10
  b[9] = (low >>> 16) & 0xff;
  b[10] = (low >>> 8) & 0xff;
  b[11] = low & 0xff;
  return (
    HEX[b[0]] + HEX[b[1]] + HEX[b[2]] + HEX[b[3]] + "-" + HEX[b[4]] + HEX[b[5]] + "-" + HEX[b[6]] + HEX[b[7]] + "-" +
    HEX[b[8]] + HEX[b[9]] + "-" + HEX[b[10]] + HEX[b[11]] + HEX[b[12]] + HEX[b[13]] + HEX[b[14]] + HEX[b[15]]
  );
}
