import { LoggerProvider, SimpleLogRecordProcessor, type LogRecordExporter, type LogRecordProcessor } from "@opentelemetry/sdk-logs";

export interface StorePipelineOptions {
  /** Each behind its own Simple processor, in order (the database, a custom storage). */
  exporters: LogRecordExporter[];
  /** Run in order before the store's exporters, e.g. a RedactionProcessor: what they leave is what is stored. */
  processors?: LogRecordProcessor[];
}

/** The store's own LoggerProvider: processors, then the store exporters, each behind a Simple processor. */
export interface StorePipeline {
  provider: LoggerProvider;
  /** Resolves when every record emitted so far is written (reads call this first). */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * A Simple processor starts the write during `emit` (no batching delay, no queue to overflow: the
 * write is one database insert); `flush` also waits for the exporter, which the SDK's Simple
 * processor does not do by itself.
 */
export function createStorePipeline(options: StorePipelineOptions): StorePipeline {
  const { exporters, processors = [] } = options;
  const provider = new LoggerProvider({
    processors: [...processors, ...exporters.map((exporter) => new SimpleLogRecordProcessor({ exporter }))],
  });
  return {
    provider,
    flush: async () => {
      await provider.forceFlush();
      await Promise.all(exporters.map((e) => e.forceFlush?.()));
    },
    shutdown: () => provider.shutdown(),
  };
}
