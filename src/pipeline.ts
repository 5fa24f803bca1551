import { BatchLogRecordProcessor, type LogRecordExporter, type LogRecordProcessor } from "@opentelemetry/sdk-logs";
import type { LoggerProvider } from "@opentelemetry/api";
import { DurableLogRecordProcessor, type DurableLogRecordProcessorOptions } from "./durable/processor.js";
import { IntegrityProcessor, type IntegrityProcessorOptions } from "./processors/integrity.js";
import { RedactionProcessor, type RedactionOptions } from "./processors/redaction.js";
import type { ScopeSelection } from "./processors/scope.js";
import { redactionOptionsSchema } from "./processors/redaction.js";
import { parseOptions } from "./options.js";
import { processorsShape, scopesSchema } from "./option-schemas.js";
import * as z from "zod";

const auditProcessorsSchema = z.strictObject({ ...processorsShape(redactionOptionsSchema), scopes: scopesSchema.optional() });

export interface AuditProcessorsOptions {
  /** Options of the RedactionProcessor, or false to leave it out (not recommended). */
  redaction?: RedactionOptions | false;
  /** Options of the IntegrityProcessor (key, signing key, checkpoints), or false to leave it out. */
  integrity?: IntegrityProcessorOptions | false;
  /** When given, an exporting processor for it is appended last: the durable spool unless `durable: false`. */
  exporter?: LogRecordExporter;
  /** Spool options for `exporter`, or false for the SDK's Batch processor (which drops when full). Default true. */
  durable?: boolean | Omit<DurableLogRecordProcessorOptions, "exporter">;
  /** Which instrumentation scopes the processors act on; default only `otel-auth-audit`, so app logs pass untouched. */
  scopes?: ScopeSelection;
}

/**
 * The audit processors in the order that keeps the guarantees — redaction, then the hash chain,
 * then (given an exporter) the durable spool in front of it — for `NodeSDK({ logRecordProcessors: [...auditProcessors(), ...yours] })` or any
 * LoggerProvider. They act only on audit records, so an app's own logging pipeline can carry them.
 */
export function auditProcessors(options: AuditProcessorsOptions = {}): LogRecordProcessor[] {
  parseOptions("auditProcessors", auditProcessorsSchema, options);
  const { redaction = {}, integrity = {}, exporter, durable = true, scopes } = options;
  const processors: LogRecordProcessor[] = [];
  if (redaction !== false) processors.push(new RedactionProcessor({ scopes, ...redaction }));
  if (integrity !== false) processors.push(new IntegrityProcessor({ scopes, ...integrity }));
  if (exporter) processors.push(exportingProcessor(exporter, durable));
  for (const p of processors) if (p instanceof IntegrityProcessor) p.inList(processors);
  return processors;
}

/** How an exporter is attached: behind the disk spool (no loss), or batched as the SDK does. */
function exportingProcessor(
  exporter: LogRecordExporter,
  durable: boolean | Omit<DurableLogRecordProcessorOptions, "exporter"> = true,
): LogRecordProcessor {
  if (durable === false) return new BatchLogRecordProcessor({ exporter });
  return new DurableLogRecordProcessor({ ...(durable === true ? {} : durable), exporter });
}

/** Points the integrity processors at the provider they sit in, so checkpoints travel the same path. */
export function bindProcessors(processors: LogRecordProcessor[], provider: LoggerProvider): void {
  for (const p of processors) if (p instanceof IntegrityProcessor) p.bind(provider);
}
