/**
 * The lines of a file that a byte range owns, read by the thread that checks them (a worker of the
 * parallel verifier): the input is read once, straight into a buffer the reader keeps, and never
 * goes through another thread. A line belongs to the range its first byte is in: a range skips the
 * rest of the line it starts inside and reads on past its end to the end of its own last line, so
 * ranges that tile a file hand every line to exactly one of them, whatever the lines' lengths.
 */
import { readSync } from "node:fs";

/** Bytes [start, end) of a file of `size` bytes open as `fd`. */
export interface ByteRange {
  fd: number;
  start: number;
  end: number;
  size: number;
}

export class RangeReader {
  #buf = Buffer.alloc(0);

  /** `ahead`: bytes read past a range's end for the rest of its last line, before reading more. */
  constructor(readonly ahead = 64 * 1024) {}

  /**
   * The lines whose first byte is in [start, end), from the first one's start to the last one's
   * end (its newline left out); an empty buffer when no line starts there. Undefined when the file
   * is shorter than `size` (it changed while being read). The buffer is reused by the next call.
   */
  read({ fd, start, end, size }: ByteRange): Buffer | undefined {
    // from the byte before the range: whether a line starts at `start` is whether it is a newline
    const from = start > 0 ? start - 1 : 0;
    let n = 0;
    for (let want = Math.min(end - from + this.ahead, size - from); ; want = Math.min(want * 2, size - from)) {
      if (want > this.#buf.length) {
        const bigger = Buffer.allocUnsafeSlow(want);
        this.#buf.copy(bigger, 0, 0, n);
        this.#buf = bigger;
      }
      while (n < want) {
        const got = readSync(fd, this.#buf, n, want - n, from + n);
        if (got === 0) return undefined;
        n += got;
      }
      const data = this.#buf.subarray(0, n);
      const whole = from + n >= size;
      let first = 0;
      if (start > 0) {
        const newline = data.indexOf(10);
        if (newline < 0 && !whole) continue;
        if (newline < 0) return data.subarray(0, 0);
        first = newline + 1;
      }
      if (from + first >= end) return data.subarray(0, 0);
      const stop = data.indexOf(10, end - 1 - from);
      if (stop >= 0) return data.subarray(first, stop);
      if (whole) return data.subarray(first, n);
    }
  }
}
