/**
 * Auth.js v5 in-process, records printed to the console: `npx tsx examples/authjs/auth-core.ts`.
 * In a Next.js app the same two calls wrap `NextAuth(...)` and its route handlers (docs/authjs.md).
 */
import { Auth, type AuthConfig } from "@auth/core";
import Credentials from "@auth/core/providers/credentials";
import { ConsoleLogRecordExporter, SimpleLogRecordProcessor } from "@opentelemetry/sdk-logs";
import { setupAudit } from "otel-auth-audit";
import { auditHandler, withAudit } from "otel-auth-audit/authjs";

const audit = setupAudit({ serviceName: "authjs-example", processors: [new SimpleLogRecordProcessor({ exporter: new ConsoleLogRecordExporter() })] });

export const config = withAudit(
  {
    basePath: "/auth",
    secret: "example-secret-change-me-0123456789abcdef",
    trustHost: true,
    providers: [
      Credentials({
        credentials: { email: {}, password: {} },
        authorize: async ({ email, password }) => (password === "hunter2-example" ? { id: "user-1", email: String(email) } : null),
      }),
    ],
  } satisfies AuthConfig,
  // one proxy in front of the app appends the client's address to X-Forwarded-For
  { loggerProvider: audit.provider, trustedProxies: 1 },
);

export const handler = auditHandler((request: Request) => Auth(request, config), config);

async function main() {
  const headers = { "x-forwarded-for": "198.51.100.4", "user-agent": "example-browser/1.0" };
  const csrf = await handler(new Request("http://localhost:3000/auth/csrf", { headers }));
  const { csrfToken } = (await csrf.json()) as { csrfToken: string };
  const cookie = csrf.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  for (const password of ["wrong-example", "hunter2-example"]) {
    await handler(
      new Request("http://localhost:3000/auth/callback/credentials", {
        method: "POST",
        headers: { ...headers, cookie, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ email: "ada@example.com", password, csrfToken }).toString(),
      }),
    );
  }
  await audit.shutdown();
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
