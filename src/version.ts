/** Instrumentation scope of every audit record: collectors route audit records apart by it. */
export const SCOPE_NAME = "otel-auth-audit";
/** Kept equal to package.json's version (a test checks it). */
export const VERSION = "0.1.0";
