export { AUDIT_ATTR, eventNameFor, fromAttributes, toAttributes } from "./attributes.js";
export { AuditLogger, createAuditLogger, type AuditLoggerOptions } from "./emit.js";
export { AuditValidationError } from "./errors.js";
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
export { SCOPE_NAME, VERSION } from "./version.js";
export { DatabaseExporter, type DatabaseExporterOptions } from "./store/database-exporter.js";
export { DatabaseReader, DEFAULT_LIST_LIMIT, type AuditPage, type AuditQuery, type AuditReader } from "./store/reader.js";
export { entryFromEvent, entryFromRecord, type AuditLogEntry, type AuditStatus } from "./store/entry.js";
export { AUDIT_LOG_MODEL, type AuditLogRow, type StoreAdapter, type StoreWhere } from "./store/adapter.js";
export { RetentionSweeper, DEFAULT_RETENTION_INTERVAL_MS, type RetentionOptions, type RetentionSweeperOptions } from "./store/retention.js";
export { StorageExporter, storageReader, type AuditStorage } from "./store/storage.js";
export { createStorePipeline, type StorePipeline, type StorePipelineOptions } from "./store/pipeline.js";
