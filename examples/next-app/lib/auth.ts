import { betterAuth } from "better-auth";
import { nextCookies } from "better-auth/next-js";
import { auditLog } from "otel-auth-audit/better-auth";
import { Pool } from "pg";

export const auth = betterAuth({
  database: new Pool({ connectionString: process.env.DATABASE_URL }),
  emailAndPassword: { enabled: true },
  plugins: [auditLog(), nextCookies()],
});
