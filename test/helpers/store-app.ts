import { betterAuth, type BetterAuthOptions } from "better-auth";
import { memoryAdapter } from "better-auth/adapters/memory";
import { BASE_URL, createAuthApp, requester } from "./auth-app.js";

export type Backend = "sqlite" | "memory";
export const BACKENDS: Backend[] = ["sqlite", "memory"];

/** A real better-auth instance on node:sqlite (migrated) or on the memory adapter, driven through auth.handler. */
export async function createStoreApp<O extends Partial<BetterAuthOptions>>(backend: Backend, options: O) {
  if (backend === "sqlite") return { backend, ...(await createAuthApp(options)) };
  const db: Record<string, Record<string, unknown>[]> = { user: [], session: [], account: [], verification: [], auditLog: [] };
  const auth = betterAuth({
    baseURL: BASE_URL,
    secret: "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz",
    database: memoryAdapter(db),
    emailAndPassword: { enabled: true },
    rateLimit: { enabled: false },
    advanced: { ipAddress: { ipAddressHeaders: ["x-forwarded-for"] } },
    logger: { disabled: true },
    ...options,
  } satisfies BetterAuthOptions);
  return { backend, auth, database: undefined, memory: db, ...requester(auth.handler) };
}

/** Lets pending promise chains (database writes) run; setImmediate is never faked in these tests. */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
}
