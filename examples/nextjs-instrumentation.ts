/**
 * Next.js: `instrumentation.ts` at the project root runs once at server start (the `register`
 * hook). Start the OTel SDK there, with the audit instrumentation, then use
 * `auditLogFor(authAudit)` in `lib/auth.ts`.
 *
 *   // lib/auth.ts
 *   import { auditLogFor } from "otel-auth-audit/better-auth";
 *   import { authAudit } from "@/instrumentation";
 *   export const auth = betterAuth({ plugins: [auditLogFor(authAudit)] });
 */
import { AuthAuditInstrumentation } from "otel-auth-audit";

export const authAudit = new AuthAuditInstrumentation();

export async function register() {
  // Node.js runtime only: the Edge runtime has no NodeSDK
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { NodeSDK } = await import("@opentelemetry/sdk-node");
  // OTLP/HTTP export configured by OTEL_EXPORTER_OTLP_* (NodeSDK reads them)
  new NodeSDK({ serviceName: process.env.OTEL_SERVICE_NAME ?? "next-app", instrumentations: [authAudit] }).start();
}
