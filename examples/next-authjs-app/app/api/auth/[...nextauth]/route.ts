import { auditHandler } from "otel-auth-audit/authjs";
import { config, handlers } from "@/auth";

// auditHandler puts the request in scope, so records carry the client's IP and user agent.
export const GET = auditHandler(handlers.GET, config);
export const POST = auditHandler(handlers.POST, config);
