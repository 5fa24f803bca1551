import { betterAuth, type BetterAuthOptions } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { DatabaseSync } from "node:sqlite";

export const BASE_URL = "http://localhost:3000";
export const CLIENT_IP = "203.0.113.7";
export const USER_AGENT = "otel-auth-audit-test/1.0";

/** Mail the app "sent": reset links, OTPs, verification links. */
export interface Outbox {
  resetToken?: string;
  otp?: string;
}

/** A real better-auth instance on an in-memory node:sqlite database, migrated. */
export async function createAuthApp<O extends Partial<BetterAuthOptions>>(options: O) {
  const database = new DatabaseSync(":memory:");
  const config = {
    baseURL: BASE_URL,
    secret: "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz",
    database,
    emailAndPassword: { enabled: true },
    rateLimit: { enabled: false },
    advanced: { ipAddress: { ipAddressHeaders: ["x-forwarded-for"] } },
    logger: { disabled: true },
    ...options,
  } satisfies BetterAuthOptions;
  const { runMigrations } = await getMigrations(config);
  await runMigrations();
  const auth = betterAuth(config);
  return { auth, database, ...requester(auth.handler) };
}

/** Drives `auth.handler` with real Requests from one client (IP, user agent, cookie jar). */
export function requester(handler: (request: Request) => Promise<Response>) {
  const send = async (method: string, path: string, body?: unknown, cookie?: string, headers: Record<string, string> = {}) => {
    const response = await handler(
      new Request(`${BASE_URL}/api/auth${path}`, {
        method,
        headers: {
          "content-type": "application/json",
          "x-forwarded-for": CLIENT_IP,
          "user-agent": USER_AGENT,
          origin: BASE_URL,
          ...(cookie ? { cookie } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    );
    const text = await response.text();
    let json: any = undefined;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    return { status: response.status, json, headers: response.headers, cookie: sessionCookie(response) ?? cookie };
  };
  return {
    post: (path: string, body: unknown = {}, cookie?: string, headers?: Record<string, string>) => send("POST", path, body, cookie, headers),
    get: (path: string, cookie?: string, headers?: Record<string, string>) => send("GET", path, undefined, cookie, headers),
  };
}

/** The cookies a response sets, as one Cookie header. */
export function sessionCookie(response: Response): string | undefined {
  const cookies = response.headers.getSetCookie().map((c) => c.split(";")[0]).filter((c) => !c.endsWith("="));
  return cookies.length ? cookies.join("; ") : undefined;
}
