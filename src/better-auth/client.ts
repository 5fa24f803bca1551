import type { BetterAuthClientPlugin } from "better-auth/client";
import type { auditLog } from "./index.js";

/** The client half of `auditLog()`: `createAuthClient({ plugins: [auditLogClient()] })`. */
export const auditLogClient = () =>
  ({
    id: "audit-log",
    $InferServerPlugin: {} as ReturnType<typeof auditLog>,
  }) satisfies BetterAuthClientPlugin;
