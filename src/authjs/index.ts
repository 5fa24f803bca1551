export { withAudit } from "./with-audit.js";
export { auditHandler } from "./handler.js";
export { ACTIONS, signInAction } from "./actions.js";
export type { AuthConfigLike, CaptureOptions, WithAuditOptions } from "./types.js";
