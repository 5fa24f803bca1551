import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import type { LogRecordExporter, ReadableLogRecord } from "@opentelemetry/sdk-logs";

/** Accepts everything at once: benchmarks measure the pipeline, not a network. */
export class NoopExporter implements LogRecordExporter {
  exported = 0;
  export(records: ReadableLogRecord[], done: (result: ExportResult) => void): void {
    this.exported += records.length;
    done({ code: ExportResultCode.SUCCESS });
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
