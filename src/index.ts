// The package root: the core, the processors and the setup. Everything else has its own entry
// point (`/verify`, `/loki`, `/better-auth`, `/better-auth/client`, `/authjs`, `/testing`); what only
// this repository's tests need is imported relatively, never made public.
export { setupAudit, type AuditSetup, type SetupAuditOptions } from "./setup.js";
export { auditProcessors, type AuditProcessorsOptions } from "./pipeline.js";
export { AuditLogger, createAuditLogger, type AuditLoggerOptions } from "./emit.js";
export { RedactionProcessor, type RedactionLimits, type RedactionOptions, type RedactionStrategy } from "./processors/redaction.js";
export { IntegrityProcessor, type IntegrityProcessorOptions } from "./processors/integrity.js";
export { DurableLogRecordProcessor, type DurableHealth, type DurableLogRecordProcessorOptions } from "./durable/processor.js";
export { AuthAuditInstrumentation, type AuthAuditInstrumentationConfig } from "./instrumentation.js";
export { BruteForceDetector, type BruteForceOptions, type BruteForceSignal, type SharedFailureCounter } from "./detect/brute-force.js";
export { AuditOptionsError, AuditValidationError, SpoolFullError, SpoolLockedError } from "./errors.js";
export type { AuditEvent, AuditEventInput, AuditOutcome, AuditSeverity } from "./event.js";
