import { ExportResultCode } from "@opentelemetry/core";
import type { LogRecordExporter, ReadableLogRecord } from "@opentelemetry/sdk-logs";

/** Keeps what it is given, also across its own shutdown (the SDK's in-memory exporter forgets). */
export function captureExporter(): LogRecordExporter & { records: ReadableLogRecord[] } {
  const records: ReadableLogRecord[] = [];
  return {
    records,
    export: (batch, done) => {
      records.push(...batch);
      done({ code: ExportResultCode.SUCCESS });
    },
    shutdown: async () => {},
    forceFlush: async () => {},
  };
}
