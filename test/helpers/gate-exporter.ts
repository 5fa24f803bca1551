import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import { InMemoryLogRecordExporter, type LogRecordExporter, type ReadableLogRecord } from "@opentelemetry/sdk-logs";

/** A collector that is down (every export fails) until `open` is set; then it keeps what it gets. */
export class GateExporter implements LogRecordExporter {
  readonly memory = new InMemoryLogRecordExporter();
  open = false;
  export(records: ReadableLogRecord[], done: (r: ExportResult) => void): void {
    if (this.open) this.memory.export(records, done);
    else done({ code: ExportResultCode.FAILED, error: new Error("collector down") });
  }
  shutdown = async () => undefined;
  forceFlush = async () => undefined;
  records = () => this.memory.getFinishedLogRecords();
}
