// The store's vocabulary, public under `otel-auth-audit/better-auth`: entries, queries, readers, the
// custom storage shape, and the pieces `auditLog()` builds its store from.
export type { AuditLogEntry, AuditStatus } from "../store/entry.js";
export type { AuditPage, AuditQuery, AuditReader } from "../store/reader.js";
export type { AuditStorage } from "../store/storage.js";
export type { RetentionOptions } from "../store/retention.js";
export { DatabaseExporter, type DatabaseExporterOptions } from "../store/database-exporter.js";
export { DatabaseReader } from "../store/reader.js";
export { RetentionSweeper, type RetentionSweeperOptions } from "../store/retention.js";
export { StorageExporter, storageReader } from "../store/storage.js";
export { createStorePipeline, type StorePipeline, type StorePipelineOptions } from "../store/pipeline.js";
