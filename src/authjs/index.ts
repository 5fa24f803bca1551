export { withAudit } from "./with-audit.js";
export { auditHandler, auditHandlers } from "./handler.js";
export { ACTIONS, signInAction } from "./actions.js";
export type { AuthConfigLike, CaptureOptions, HeadersSource, UserHashOptions, WithAuditOptions } from "./types.js";
export type { TrustedProxies } from "./client-address.js";
