import type { AuditLogger } from "../emit.js";

/** The logger each `auditLog()` plugin object emits through, for helpers that get only `auth`. */
export const pluginLoggers = new WeakMap<object, AuditLogger>();
