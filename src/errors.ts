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
