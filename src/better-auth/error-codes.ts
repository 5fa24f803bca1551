/** Error codes of the audit-log endpoints, in better-auth's `{ code, message }` shape (`$ERROR_CODES`). */
function codes<const T extends Record<string, string>>(messages: T): { [K in keyof T & string]: { readonly code: K; message: string } } {
  return Object.fromEntries(Object.entries(messages).map(([code, message]) => [code, { code, message }])) as never;
}

export const AUDIT_LOG_ERROR_CODES = codes({
  AUDIT_LOG_NOT_FOUND: "Audit log entry not found",
  NOT_ALLOWED_TO_READ_OTHER_USERS_AUDIT_LOGS: "Reading another user's audit logs requires an admin",
  NOT_ALLOWED_TO_INSERT_FOR_ANOTHER_USER: "An inserted audit log always has the signed-in user as its subject",
  NOT_ALLOWED_TO_INSERT_PRIVILEGED_AUDIT_LOG: "Only an admin may insert admin, brute-force, rate-limit or audit actions (in any spelling) or high/critical severities",
  INVALID_ACTION: "action must be 1-200 characters of letters, digits and : . _ - /",
  INVALID_DATE: "from and to must be ISO 8601 dates",
  INVALID_DATE_RANGE: "from must not be later than to",
  METADATA_TOO_LARGE: "metadata is larger than the allowed size",
  METADATA_TOO_DEEP: "metadata is nested deeper than the allowed depth",
  AUDIT_LOG_WRITE_FAILED: "The audit log entry could not be stored; try again later",
  AUDIT_LOG_STORE_DISABLED: "No audit log store can be read: enable the store or give a storage with read()",
});

export type AuditLogErrorCode = keyof typeof AUDIT_LOG_ERROR_CODES;
