/**
 * A better-auth app whose audit records travel through NodeSDK (see instrumentation.ts):
 *   OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 npx tsx --conditions=otel-auth-audit:source examples/nodesdk/app.ts
 * Without an endpoint the OTLP exporter's default (localhost:4318) is used; records wait in the
 * spool until a collector answers.
 */
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { DatabaseSync } from "node:sqlite";
import { auditLogFor } from "otel-auth-audit/better-auth";
import { authAudit, sdk } from "./instrumentation.js";

const options = {
  baseURL: "http://localhost:3000",
  secret: "nodesdk-example-secret-0123456789abcdefghijkl",
  database: new DatabaseSync(":memory:"),
  emailAndPassword: { enabled: true },
  logger: { disabled: true },
  plugins: [auditLogFor(authAudit)],
};
await (await getMigrations(options)).runMigrations();
const auth = betterAuth(options);

const post = (path: string, body: unknown) =>
  auth.handler(new Request(`http://localhost:3000/api/auth${path}`, { method: "POST", headers: { "content-type": "application/json", origin: "http://localhost:3000" }, body: JSON.stringify(body) }));
await post("/sign-up/email", { email: "nodesdk@example.com", password: "nodesdk-password-1", name: "N" });
await post("/sign-in/email", { email: "nodesdk@example.com", password: "wrong-password" });
console.log("two auth events recorded; shutting down (the spool flushes what it can)");
await sdk.shutdown();
