export { LokiAuditReader, type LokiAuditReaderOptions } from "../store/loki-reader.js";
export type { AuditPage, AuditQuery, AuditReader } from "../store/reader.js";
