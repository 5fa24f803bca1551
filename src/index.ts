export { AUDIT_ATTR, eventNameFor, fromAttributes, toAttributes } from "./attributes.js";
export { AuditLogger, createAuditLogger, type AuditLoggerOptions } from "./emit.js";
export { AuditOptionsError, AuditValidationError, SpoolFullError, SpoolLockedError } from "./errors.js";
export {
  defaultSpoolDirectory,
  DurableLogRecordProcessor,
  type DurableHealth,
  type DurableLogRecordProcessorOptions,
  type FsyncPolicy,
  type OverflowPolicy,
} from "./durable/processor.js";
export {
  AUDIT_OUTCOMES,
  AUDIT_SEVERITIES,
  newEventId,
  validateEventInput,
  type AuditEvent,
  type AuditEventInput,
  type AuditOrigin,
  type AuditOutcome,
  type AuditSeverity,
} from "./event.js";
export { DEFAULT_SEVERITY_MAPPING, inferSeverity, severityMapping, type OtelSeverity, type SeverityMapping } from "./severity.js";
export { setupAudit, type AuditSetup, type SetupAuditOptions } from "./setup.js";
export { LokiAuditReader, type LokiAuditReaderOptions } from "./store/loki-reader.js";
export { SCOPE_NAME, VERSION } from "./version.js";
export { readEnvConfig, type EnvConfig } from "./config.js";
export { AuthAuditInstrumentation, type AuthAuditInstrumentationConfig } from "./instrumentation.js";
export {
  BruteForceDetector,
  isFailedAttempt,
  type BruteForceOptions,
  type BruteForceSignal,
  type KeyKind,
  type SharedFailureCounter,
  type Threshold,
} from "./detect/brute-force.js";
export { MemoryFailureCounter } from "./detect/memory-counter.js";
export {
  DEFAULT_REDACT_KEYS,
  DEFAULT_REDACT_PATTERNS,
  piiRedactionToOptions,
  RedactionProcessor,
  type PiiRedactionConfig,
  type RedactionKey,
  type RedactionOptions,
  type RedactionPattern,
  type RedactionStrategy,
} from "./processors/redaction.js";
export { IntegrityProcessor, type IntegrityProcessorOptions } from "./processors/integrity.js";
export type { ScopeSelection } from "./processors/scope.js";
export { CHAIN_ATTR, CHECKPOINT_ATTR, CHECKPOINT_EVENT, GENESIS_PREV, type HashAlg } from "./chain/format.js";
export { canonicalFromOtlp, canonicalFromSdk, jcs, type OtlpAnyValue, type OtlpKeyValue, type OtlpLogRecord } from "./chain/canonical.js";
export { MerkleTree } from "./chain/merkle.js";
export * from "./verify/index.js";
export { auditProcessors, bindProcessors, type AuditProcessorsOptions } from "./pipeline.js";
export { DatabaseExporter, type DatabaseExporterOptions } from "./store/database-exporter.js";
export { DatabaseReader, DEFAULT_LIST_LIMIT, type AuditPage, type AuditQuery, type AuditReader } from "./store/reader.js";
export { entryFromEvent, entryFromRecord, type AuditLogEntry, type AuditStatus } from "./store/entry.js";
export { AUDIT_LOG_MODEL, type AuditLogRow, type StoreAdapter, type StoreWhere } from "./store/adapter.js";
export { RetentionSweeper, DEFAULT_RETENTION_INTERVAL_MS, type RetentionOptions, type RetentionSweeperOptions } from "./store/retention.js";
export { StorageExporter, storageReader, type AuditStorage } from "./store/storage.js";
export { createStorePipeline, type StorePipeline, type StorePipelineOptions } from "./store/pipeline.js";
