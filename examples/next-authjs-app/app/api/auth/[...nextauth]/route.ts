import { auditHandlers } from "otel-auth-audit/authjs";
import { handlers } from "@/auth";

// auditHandlers puts each request in scope, so records carry the client's user agent (and its IP
// through `trustedProxies` when a proxy sets X-Forwarded-For).
export const { GET, POST } = auditHandlers(handlers);
