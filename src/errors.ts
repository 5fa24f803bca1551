/** Thrown for an audit event that cannot be recorded as given; nothing is emitted. */
export class AuditValidationError extends TypeError {
  readonly code = "AUDIT_INVALID_EVENT";
  constructor(
    message: string,
    /** The offending field of the event, e.g. `outcome`. */
    readonly field: string,
  ) {
    super(message);
    this.name = "AuditValidationError";
  }
}

/** Thrown by the durable processor's onEmit when the spool is full and `overflow` is `"reject"`. */
export class SpoolFullError extends Error {
  readonly code = "AUDIT_SPOOL_FULL";
  constructor(
    /** The spool's directory. */
    readonly directory: string,
    /** Its size limit in bytes. */
    readonly maxBytes: number,
  ) {
    super(`otel-auth-audit: the audit spool in ${directory} is full (${maxBytes} bytes); the record was not accepted`);
    this.name = "SpoolFullError";
  }
}

/** Thrown when a spool directory is already in use by another live process (or another processor here). */
export class SpoolLockedError extends Error {
  readonly code = "AUDIT_SPOOL_LOCKED";
  constructor(
    readonly directory: string,
    /** The process holding it. */
    readonly pid: number,
  ) {
    super(`otel-auth-audit: the audit spool ${directory} is in use by process ${pid}; give each process its own directory`);
    this.name = "SpoolLockedError";
  }
}

/**
 * Thrown at construction for an option of the wrong type or value (or an unknown one). One class for
 * every public constructor and factory; `option` names the option's path, e.g. `durable.overflow`.
 */
export class AuditOptionsError extends TypeError {
  readonly code = "AUDIT_INVALID_OPTION";
  constructor(
    message: string,
    /** The option's path within the options object, e.g. `redaction.scopes`. */
    readonly option: string,
    /** Which constructor or factory refused it, e.g. `RedactionProcessor`. */
    readonly where: string,
  ) {
    super(message);
    this.name = "AuditOptionsError";
  }
}
