import { crc32 } from "node:zlib";

/**
 * The header of every spool segment file, so that a file written by another version of this
 * library is recognised before a byte of it is trusted:
 * `[8 bytes "OAASPOOL"][u16 format version][u16 flags, 0][u32 crc32 of the 12 bytes before]`.
 */
export const SEGMENT_MAGIC = Buffer.from("OAASPOOL", "latin1");
export const FORMAT_VERSION = 1;
export const SEGMENT_HEADER = 16;

export class UnsupportedSpoolFormatError extends Error {
  readonly code = "AUDIT_SPOOL_FORMAT";
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`otel-auth-audit: spool segment ${path} ${reason}; it is left untouched (this version reads format ${FORMAT_VERSION})`);
    this.name = "UnsupportedSpoolFormatError";
  }
}

export function segmentHeader(): Buffer {
  const header = Buffer.alloc(SEGMENT_HEADER);
  SEGMENT_MAGIC.copy(header, 0);
  header.writeUInt16LE(FORMAT_VERSION, 8);
  header.writeUInt32LE(crc32(header.subarray(0, 12)), 12);
  return header;
}

/**
 * Checks a segment's header. Throws UnsupportedSpoolFormatError for a file that is not a segment
 * or has another format version; returns false for a header cut short by a crash right after
 * the file was created (nothing in it yet).
 */
export function checkSegmentHeader(buf: Buffer, path: string): boolean {
  if (buf.length < SEGMENT_HEADER) {
    if (SEGMENT_MAGIC.subarray(0, Math.min(buf.length, 8)).equals(buf.subarray(0, Math.min(buf.length, 8)))) return false;
    throw new UnsupportedSpoolFormatError(path, "is not an otel-auth-audit spool segment (no header)");
  }
  if (!buf.subarray(0, 8).equals(SEGMENT_MAGIC)) throw new UnsupportedSpoolFormatError(path, "is not an otel-auth-audit spool segment (wrong magic number)");
  if (crc32(buf.subarray(0, 12)) !== buf.readUInt32LE(12)) throw new UnsupportedSpoolFormatError(path, "has a damaged header");
  const version = buf.readUInt16LE(8);
  if (version !== FORMAT_VERSION) throw new UnsupportedSpoolFormatError(path, `has format version ${version}`);
  return true;
}
