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
