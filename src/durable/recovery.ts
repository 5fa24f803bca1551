import { crc32 } from "node:zlib";
import { FRAME_RECORD } from "./record-codec.js";
import { scanFrames, type Damage } from "./framing.js";
import { checkSegmentHeader, SEGMENT_HEADER, SEGMENT_MAGIC, UnsupportedSpoolFormatError } from "./header.js";

/** What a segment left by an earlier run holds. */
export interface ScannedSegment {
  /** Bytes worth keeping: the file is cut here (a torn or damaged end). */
  size: number;
  records: number;
  /** Records before the acknowledged offset. */
  ackedRecords: number;
  /** Dictionary frames, in order, for the segment's decoder. */
  dictionary: Array<{ type: number; payload: string }>;
  /** Overflow records: where, and how many lost records each reports. */
  overflow: Array<{ offset: number; carried: number }>;
  /** Damaged stretches inside the segment: each costs the frame(s) in it, nothing after. */
  holes: Damage[];
  /** Frames lost: damaged stretches, a damaged header, and a damaged or torn end. */
  damagedFrames: number;
  /** Bytes cut from the end. */
  cutBytes: number;
  /** The header was damaged but the frames after it were readable. */
  damagedHeader: boolean;
}

/**
 * Reads a whole segment image: checks its header (refusing other formats), walks its frames and
 * resynchronises after damage on the next valid frame, so one bad byte costs one frame.
 * Throws UnsupportedSpoolFormatError for a file this version must not touch.
 */
export function scanSegment(buf: Buffer, path: string, ackOffset: number): ScannedSegment {
  const result: ScannedSegment = {
    size: SEGMENT_HEADER, records: 0, ackedRecords: 0, dictionary: [], overflow: [], holes: [], damagedFrames: 0, cutBytes: 0, damagedHeader: false,
  };
  let headerOk: boolean;
  try {
    headerOk = checkSegmentHeader(buf, path);
  } catch (error) {
    // a damaged header (not another version) is one more damaged frame, if frames follow it
    if (!(error instanceof UnsupportedSpoolFormatError) || !isDamagedHeader(buf)) throw error;
    headerOk = true;
    result.damagedHeader = true;
    result.damagedFrames++;
  }
  if (!headerOk) {
    result.size = 0;
    result.cutBytes = buf.length;
    return result;
  }
  const { damage, tail } = scanFrames(buf, SEGMENT_HEADER, (frame) => {
    if (frame.type === FRAME_RECORD) {
      result.records++;
      if (frame.start < ackOffset) result.ackedRecords++;
      const carried = overflowCount(frame.payload);
      if (carried !== undefined) result.overflow.push({ offset: frame.start, carried });
    } else {
      result.dictionary.push({ type: frame.type, payload: frame.payload.toString("utf8") });
    }
  });
  if (result.damagedHeader && result.records === 0 && result.dictionary.length === 0) {
    throw new UnsupportedSpoolFormatError(path, "has a damaged header and no readable frame");
  }
  result.holes = damage;
  result.damagedFrames += damage.length;
  result.size = tail ? tail.start : buf.length;
  if (tail) {
    result.cutBytes = tail.end - tail.start;
    result.damagedFrames++;
  }
  return result;
}

/** Magic intact or one byte off, version 1, only the CRC or a byte of it wrong: damage, not another format. */
function isDamagedHeader(buf: Buffer): boolean {
  if (buf.length < SEGMENT_HEADER) return false;
  let wrong = 0;
  for (let i = 0; i < 8; i++) if (buf[i] !== SEGMENT_MAGIC[i]) wrong++;
  const version = buf.readUInt16LE(8);
  const flags = buf.readUInt16LE(10);
  // another version has a valid CRC; one flipped byte breaks the magic, the version/flags or the CRC
  if (wrong === 0 && version !== 1 && crc32(buf.subarray(0, 12)) === buf.readUInt32LE(12)) return false;
  const versionOff = version === 1 ? 0 : 1;
  return wrong + versionOff + (flags === 0 ? 0 : 1) <= 1;
}

const OVERFLOW_MARK = Buffer.from('"audit.spool.overflow"');

/** For an overflow record's payload, the lost-record count it reports (found again after a restart). */
export function overflowCount(payload: Buffer): number | undefined {
  if (payload.indexOf(OVERFLOW_MARK) < 0) return undefined;
  try {
    const attributes = (JSON.parse(payload.toString("utf8")) as unknown[])[10] as Record<string, unknown>;
    const count = attributes?.["audit.spool.dropped_records"];
    return typeof count === "number" ? count : undefined;
  } catch {
    return undefined;
  }
}
