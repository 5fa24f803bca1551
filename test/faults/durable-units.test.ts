import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SpoolLockedError } from "otel-auth-audit";
import { Cursor } from "../../src/durable/cursor.js";
import { encodeFrame, FRAME_HEADER, frameAt, scanFrames } from "../../src/durable/framing.js";
import { checkSegmentHeader, segmentHeader, UnsupportedSpoolFormatError } from "../../src/durable/header.js";
import { isLocked, processStart, SpoolLock } from "../../src/durable/lock.js";

const dir = () => mkdtempSync(join(tmpdir(), "oaa-units-"));

describe("framing", () => {
  it("round-trips frames and resynchronises after any damaged stretch", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 40 }), { minLength: 1, maxLength: 12 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (payloads, at, xor) => {
        const frames = payloads.map((p, i) => encodeFrame(1 + (i % 3), p));
        const image = Buffer.concat(frames);
        const seen: string[] = [];
        expect(scanFrames(image, 0, (f) => void seen.push(f.payload.toString())).damage).toEqual([]);
        expect(seen).toEqual(payloads);
        // flip one byte: exactly the frame holding it is lost
        const offset = at % image.length;
        const damaged = Buffer.from(image);
        damaged[offset] ^= xor;
        let hit = 0;
        for (let i = 0, start = 0; i < frames.length; start += frames[i].length, i++) if (offset >= start && offset < start + frames[i].length) hit = i;
        const got: string[] = [];
        const { damage, tail } = scanFrames(damaged, 0, (f) => void got.push(f.payload.toString()));
        expect(got).toEqual(payloads.filter((_, i) => i !== hit));
        expect(damage.length + (tail ? 1 : 0)).toBe(1);
      }),
      { numRuns: 300 },
    );
  });

  it("tells an incomplete frame from a bad one", () => {
    const frame = encodeFrame(1, "hello");
    expect(frameAt(frame, 0, frame.length).kind).toBe("frame");
    expect(frameAt(frame, 0, frame.length - 1)).toEqual({ kind: "incomplete", needed: FRAME_HEADER + 5 });
    const bad = Buffer.from(frame);
    bad[FRAME_HEADER] ^= 1;
    expect(frameAt(bad, 0, bad.length).kind).toBe("bad");
  });
});

describe("segment header", () => {
  it("accepts its own format and refuses other versions and foreign files loudly", () => {
    expect(checkSegmentHeader(segmentHeader(), "x")).toBe(true);
    const v2 = segmentHeader();
    v2.writeUInt16LE(2, 8);
    v2.writeUInt32LE(crc32(v2.subarray(0, 12)), 12);
    expect(() => checkSegmentHeader(v2, "x")).toThrow(UnsupportedSpoolFormatError);
    expect(() => checkSegmentHeader(v2, "x")).toThrow(/format version 2/);
    expect(() => checkSegmentHeader(Buffer.from("definitely not a spool segment"), "x")).toThrow(/not an otel-auth-audit spool segment/);
    // a header cut short by a crash right after creation: nothing in it yet
    expect(checkSegmentHeader(segmentHeader().subarray(0, 5), "x")).toBe(false);
  });
});

describe("cursor", () => {
  it("stores a position, and reads a damaged cursor as none", () => {
    const d = dir();
    const cursor = new Cursor(d);
    expect(cursor.read()).toBeUndefined();
    cursor.write({ seq: 7, offset: 1234 });
    cursor.write({ seq: 8, offset: 16 });
    expect(cursor.read()).toEqual({ seq: 8, offset: 16 });
    cursor.close(true);
    writeFileSync(join(d, "cursor"), Buffer.alloc(12, 1));
    expect(new Cursor(d).read()).toBeUndefined();
  });
});

describe("lock", () => {
  it("a live process holds it; a second holder in this process is refused", () => {
    const d = dir();
    const lock = new SpoolLock(d);
    lock.acquire();
    expect(isLocked(d)).toBe(true);
    expect(() => new SpoolLock(d).acquire()).toThrow(SpoolLockedError);
    lock.release();
    expect(isLocked(d)).toBe(false);
  });

  it("a lock whose pid now belongs to another live process (pid reuse) is taken over", async () => {
    const sleeper = spawn("sleep", ["30"], { stdio: "ignore" });
    try {
      const pid = sleeper.pid!;
      await new Promise((r) => setTimeout(r, 50));
      const start = processStart(pid);
      expect(start).not.toBeNull();
      // the lock a dead process left: same pid, another start time
      const d = dir();
      writeFileSync(join(d, "lock"), JSON.stringify({ pid, start: start! - 1, boot: null }));
      expect(isLocked(d)).toBe(false);
      const lock = new SpoolLock(d);
      lock.acquire();
      expect(lock.takenOver?.pid).toBe(pid);
      lock.release();
      // an older version's lock (a bare pid) written before that process started
      const old = dir();
      writeFileSync(join(old, "lock"), String(pid));
      const past = Date.now() / 1000 - 3600;
      utimesSync(join(old, "lock"), past, past);
      expect(isLocked(old)).toBe(false);
      // while the real owner (same pid and start time) keeps it
      const held = dir();
      writeFileSync(join(held, "lock"), JSON.stringify({ pid, start, boot: null }));
      expect(isLocked(held)).toBe(true);
      expect(() => new SpoolLock(held).acquire()).toThrow(SpoolLockedError);
    } finally {
      sleeper.kill();
    }
  });
});
