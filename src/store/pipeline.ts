import { ExportResultCode, globalErrorHandler } from "@opentelemetry/core";
import * as z from "zod";
import { optionSchemas, parseOptions } from "../options.js";
import { LoggerProvider, type LogRecordExporter, type LogRecordProcessor, type ReadWriteLogRecord } from "@opentelemetry/sdk-logs";

export interface StorePipelineOptions {
  /** Each handed every record as it is emitted, in order (the database, a custom storage). */
  exporters: LogRecordExporter[];
  /** Run in order before the store's exporters, e.g. a RedactionProcessor: what they leave is what is stored. */
  processors?: LogRecordProcessor[];
}

/** The store's own LoggerProvider: processors, then the store exporters. */
export interface StorePipeline {
  provider: LoggerProvider;
  /** Resolves when every record emitted so far is written (reads call this first). */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * The store's exporters queue (database) or start (custom storage) the write themselves, so each is
 * handed the record directly during `emit`: no promise or context switch per record as in the SDK's
 * Simple processor. `flush` waits for the exporters' writes.
 */
const storePipelineOptionsSchema = z.strictObject({
  exporters: z.array(optionSchemas.withMethods<LogRecordExporter>("export", "shutdown")),
  processors: z.array(optionSchemas.withMethods<LogRecordProcessor>("onEmit", "forceFlush", "shutdown")).optional(),
});

export function createStorePipeline(options: StorePipelineOptions): StorePipeline {
  const { exporters, processors = [] } = parseOptions("createStorePipeline", storePipelineOptionsSchema, options);
  const provider = new LoggerProvider({
    processors: [...processors, ...exporters.map((exporter) => new HandOverProcessor(exporter))],
  });
  return {
    provider,
    flush: async () => {
      await provider.forceFlush();
    },
    shutdown: () => provider.shutdown(),
  };
}

/** Hands each record to its exporter at once; failures go to OTel's global error handler. */
class HandOverProcessor implements LogRecordProcessor {
  #exporter: LogRecordExporter;
  #shutdown = false;

  constructor(exporter: LogRecordExporter) {
    this.#exporter = exporter;
  }

  onEmit(record: ReadWriteLogRecord): void {
    if (this.#shutdown) return;
    try {
      this.#exporter.export([record], (result) => {
        if (result.code !== ExportResultCode.SUCCESS) globalErrorHandler(result.error ?? new Error("the store could not take an audit record"));
      });
    } catch (error) {
      globalErrorHandler(error as Error);
    }
  }

  async forceFlush(): Promise<void> {
    await this.#exporter.forceFlush?.();
  }

  async shutdown(): Promise<void> {
    if (this.#shutdown) return;
    this.#shutdown = true;
    await this.#exporter.shutdown();
  }
}
