/**
 * next-auth 4, as `pages/api/auth/[...nextauth].ts`. The audit trail needs an OTel LoggerProvider:
 * `setupAudit()` once at startup (e.g. `instrumentation.ts`) registers one globally.
 * In a Next.js project write `import NextAuth from "next-auth"` and call it directly; this repo
 * compiles with NodeNext, where next-auth 4's CommonJS default export needs unwrapping.
 */
import NextAuthModule, { type AuthOptions } from "next-auth";
import CredentialsModule from "next-auth/providers/credentials";
import { auditHandler, withAudit } from "otel-auth-audit/authjs";

const NextAuth = NextAuthModule.default;
const CredentialsProvider = CredentialsModule.default;

export const authOptions = withAudit(
  {
  session: { strategy: "jwt" },
  providers: [
    CredentialsProvider({
      credentials: { email: { label: "Email" }, password: { label: "Password", type: "password" } },
      authorize: async (credentials) =>
        credentials && credentials.password === process.env.DEMO_PASSWORD ? { id: "user-1", email: credentials.email } : null,
    }),
  ],
} satisfies AuthOptions,
  // behind one reverse proxy (nginx, a load balancer); without it the socket's address counts
  { trustedProxies: 1 },
);

// v4 logs nothing for a bad password or a refused signIn callback: auditHandler reads the response
export default auditHandler(NextAuth(authOptions), authOptions);
