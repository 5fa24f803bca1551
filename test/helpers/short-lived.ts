/**
 * A script that records one audit event through auditLog() with zero config (the OTLP endpoint
 * from the environment) and then simply ends: no shutdown, no flush.
 *
 *   <node> --import tsx test/helpers/short-lived.ts
 */
import { auditLog } from "../../src/better-auth/index.js";
import { createAuthApp } from "./auth-app.js";

const app = await createAuthApp({ plugins: [auditLog()] });
const r = await app.post("/sign-up/email", { email: "script@example.com", password: "short-lived-pass-1", name: "S" });
process.stdout.write(`signed-up ${r.status} ${Date.now()}\n`);
