import type { Context, LogRecord, LoggerProvider } from "@opentelemetry/api";
import type { LogRecordProcessor, ReadWriteLogRecord } from "@opentelemetry/sdk-logs";
import { SCOPE_NAME, VERSION } from "../version.js";

/**
 * The processors after a given one in its sdk-logs LoggerProvider, and a way to make a record after
 * that provider stopped logging (sdk-logs 3 refuses emits once shutdown began). sdk-logs keeps the
 * processor list in a private field (`_sharedState.processors`) and has no public record
 * constructor, so both are taken from what is at hand: the bound or global provider, else the list
 * auditProcessors() built, and the constructor of a record that passed through.
 */
export interface Pipeline {
  /** The processors after this one, in order. */
  after: readonly LogRecordProcessor[];
  /** The list is the provider's own (not only the list auditProcessors() built), so `after` is complete. */
  complete: boolean;
  newRecord(record: LogRecord & { context: Context }): ReadWriteLogRecord;
}

type RecordConstructor = new (
  shared: { resource: unknown; logRecordLimits: unknown },
  scope: { name: string; version?: string },
  record: LogRecord,
) => ReadWriteLogRecord;

export function pipelineOf(
  self: LogRecordProcessor,
  providers: Array<LoggerProvider | undefined>,
  known: readonly LogRecordProcessor[] | undefined,
  sample: ReadWriteLogRecord,
): Pipeline | undefined {
  let list: readonly LogRecordProcessor[] | undefined;
  let complete = false;
  for (const provider of providers) {
    const processors = (provider as { _sharedState?: { processors?: unknown } } | undefined)?._sharedState?.processors;
    if (Array.isArray(processors) && processors.includes(self)) {
      list = processors as LogRecordProcessor[];
      complete = true;
      break;
    }
  }
  list ??= known?.includes(self) ? known : undefined;
  if (!list) return undefined;
  const Ctor = sample.constructor as RecordConstructor;
  const shared = { resource: sample.resource, logRecordLimits: (sample as { _logRecordLimits?: unknown })._logRecordLimits ?? {} };
  return {
    after: list.slice(list.indexOf(self) + 1),
    complete,
    newRecord: (record) => new Ctor(shared, { name: SCOPE_NAME, version: VERSION }, record),
  };
}
