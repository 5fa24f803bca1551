import { crc32 } from "node:zlib";

/**
 * One frame of a spool segment:
 * `[u32 magic][u32 payload length][u32 crc32(type byte + payload)][u8 type][payload]`, little
 * endian. The magic lets a reader find the next frame after a damaged one (resynchronise): it
 * scans for the magic and accepts the first position whose length and CRC hold.
 */
export const FRAME_MAGIC = 0x5a7fd1a0;
export const FRAME_HEADER = 13;
/** Any frame claiming more than this is damage, not a record. */
export const MAX_FRAME = 64 << 20;
const MAGIC_BYTES = Buffer.alloc(4);
MAGIC_BYTES.writeUInt32LE(FRAME_MAGIC, 0);

/** A whole frame of `type` around `payload`. */
export function encodeFrame(type: number, payload: string | Buffer): Buffer {
  const body = typeof payload === "string" ? Buffer.from(payload) : payload;
  const frame = Buffer.allocUnsafe(FRAME_HEADER + body.length);
  body.copy(frame, FRAME_HEADER);
  sealFrame(frame, type, body.length);
  return frame;
}

/** Writes the header of a frame whose payload already sits at `FRAME_HEADER` in `frame`. */
export function sealFrame(frame: Buffer, type: number, payloadLength: number): void {
  frame.writeUInt32LE(FRAME_MAGIC, 0);
  frame.writeUInt32LE(payloadLength, 4);
  frame[12] = type;
  frame.writeUInt32LE(crc32(frame.subarray(12, FRAME_HEADER + payloadLength)), 8);
}

export type FrameAt =
  | { kind: "frame"; type: number; payloadStart: number; end: number }
  /** Not enough bytes in the buffer to tell (the frame may continue beyond `limit`). */
  | { kind: "incomplete"; needed: number }
  | { kind: "bad" };

/** The frame starting at `pos` of `buf` (bytes up to `limit`). */
export function frameAt(buf: Buffer, pos: number, limit: number): FrameAt {
  if (limit - pos < FRAME_HEADER) return { kind: "incomplete", needed: FRAME_HEADER };
  if (buf.readUInt32LE(pos) !== FRAME_MAGIC) return { kind: "bad" };
  const length = buf.readUInt32LE(pos + 4);
  if (length > MAX_FRAME) return { kind: "bad" };
  const end = pos + FRAME_HEADER + length;
  if (end > limit) return { kind: "incomplete", needed: FRAME_HEADER + length };
  if (crc32(buf.subarray(pos + 12, end)) !== buf.readUInt32LE(pos + 8)) return { kind: "bad" };
  return { kind: "frame", type: buf[pos + 12], payloadStart: pos + FRAME_HEADER, end };
}

/**
 * Resynchronises after damage at `from`: the offset of the next whole, valid frame in
 * `buf[from+1 .. limit)`, or `limit` when there is none.
 */
export function nextValidFrame(buf: Buffer, from: number, limit: number): number {
  let at = from + 1;
  for (;;) {
    at = buf.indexOf(MAGIC_BYTES, at);
    if (at < 0 || at >= limit) return limit;
    if (frameAt(buf, at, limit).kind === "frame") return at;
    at++;
  }
}

export interface FrameVisit {
  type: number;
  /** Offset of the frame in the segment, and the offset after it. */
  start: number;
  end: number;
  payload: Buffer;
}

export interface Damage {
  start: number;
  end: number;
}

/**
 * Walks every frame of a whole segment image from `start`: valid frames go to `visit`, damaged
 * stretches (a frame that fails its magic, length or CRC, up to the next valid frame) are
 * returned. `tail` is a trailing stretch with no valid frame after it (a torn write or damage at
 * the end; the caller decides which).
 */
export function scanFrames(buf: Buffer, start: number, visit: (frame: FrameVisit) => void): { damage: Damage[]; tail?: Damage } {
  const damage: Damage[] = [];
  let pos = start;
  while (pos < buf.length) {
    const at = frameAt(buf, pos, buf.length);
    if (at.kind === "frame") {
      visit({ type: at.type, start: pos, end: at.end, payload: buf.subarray(at.payloadStart, at.end) });
      pos = at.end;
      continue;
    }
    const next = nextValidFrame(buf, pos, buf.length);
    if (next >= buf.length) return { damage, tail: { start: pos, end: buf.length } };
    damage.push({ start: pos, end: next });
    pos = next;
  }
  return { damage };
}
