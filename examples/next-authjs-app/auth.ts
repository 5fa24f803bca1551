import NextAuth, { type NextAuthConfig } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import { headers } from "next/headers";
import { withAudit } from "otel-auth-audit/authjs";

// One demo account; a real app looks the user up and compares a password hash.
const DEMO_USER = { id: "user-ada", name: "Ada", email: process.env.DEMO_EMAIL ?? "ada@example.com" };

export const { handlers, auth, signIn, signOut } = NextAuth(
  withAudit(
    {
      providers: [
        Credentials({
          credentials: { email: { type: "email" }, password: { type: "password" } },
          authorize: async (credentials) =>
            credentials.email === DEMO_USER.email && credentials.password === process.env.DEMO_PASSWORD ? DEMO_USER : null,
        }),
      ],
    } satisfies NextAuthConfig,
    // server actions' signIn()/signOut() take the request from Next.js' headers()
    { headers },
  ),
);
