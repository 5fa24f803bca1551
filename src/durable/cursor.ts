import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { crc32 } from "node:zlib";

/** A position in the spool: segment seq and byte offset. */
export interface Position {
  seq: number;
  offset: number;
}

/**
 * The `cursor` file: the first position not yet acknowledged by the exporter,
 * `[u32 seq][u32 offset][u32 crc32 of the 8 bytes before]`. Rewritten in place, not fsynced on
 * each move: a cursor lost to a power cut only means records are sent twice.
 */
export class Cursor {
  readonly path: string;
  #fd = -1;

  constructor(directory: string) {
    this.path = join(directory, "cursor");
  }

  /** The stored position, or undefined when there is none or it is damaged. */
  read(): Position | undefined {
    let data: Buffer;
    try {
      data = readFileSync(this.path);
    } catch {
      return undefined;
    }
    if (data.length < 12 || crc32(data.subarray(0, 8)) !== data.readUInt32LE(8)) return undefined;
    return { seq: data.readUInt32LE(0), offset: data.readUInt32LE(4) };
  }

  write(position: Position): void {
    if (this.#fd < 0) this.#fd = openForUpdate(this.path);
    const buffer = Buffer.allocUnsafe(12);
    buffer.writeUInt32LE(position.seq, 0);
    buffer.writeUInt32LE(position.offset, 4);
    buffer.writeUInt32LE(crc32(buffer.subarray(0, 8)), 8);
    writeSync(this.#fd, buffer, 0, 12, 0);
  }

  close(fsync: boolean): void {
    if (this.#fd < 0) return;
    if (fsync) fsyncSync(this.#fd);
    closeSync(this.#fd);
    this.#fd = -1;
  }
}

function openForUpdate(path: string): number {
  try {
    return openSync(path, "r+");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    return openSync(path, "w+");
  }
}
