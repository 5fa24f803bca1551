import { JsonLogsSerializer } from "@opentelemetry/otlp-transformer";
import type { ReadableLogRecord } from "@opentelemetry/sdk-logs";
import { closeSync, fdatasyncSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";

/**
 * Records the receiver permanently refused, kept in `dead-letters.jsonl` in the spool directory:
 * one OTLP/JSON ExportLogsServiceRequest per line, the collector file exporter's format, so
 * `otel-auth-audit verify` reads it and any OTLP client can send it again once the cause is fixed.
 * Written and fdatasynced before the record leaves the spool.
 */
export const DEAD_LETTER_FILE = "dead-letters.jsonl";

export class DeadLetters {
  readonly path: string;
  /** Records written here since start. */
  count = 0;

  constructor(directory: string) {
    this.path = join(directory, DEAD_LETTER_FILE);
  }

  /** Appends the records; throws on I/O failure (the caller keeps them spooled then). */
  append(records: ReadableLogRecord[]): void {
    const line = Buffer.from(new TextDecoder().decode(JsonLogsSerializer.serializeRequest(records)) + "\n");
    const fd = openSync(this.path, "a");
    try {
      let done = 0;
      while (done < line.length) done += writeSync(fd, line, done, line.length - done);
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.count += records.length;
  }
}
