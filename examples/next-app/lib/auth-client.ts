import { createAuthClient } from "better-auth/react";
import { auditLogClient } from "otel-auth-audit/better-auth/client";

export const authClient = createAuthClient({ plugins: [auditLogClient()] });
