/**
 * better-auth apps for the request benchmarks, one per variant, each with its own database and
 * its own audit pipeline, driven in-process through `auth.handler` (no sockets: the figures are
 * the library's cost, not the kernel's).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { betterAuth, type BetterAuthOptions, type BetterAuthPlugin } from "better-auth";
import { createAuthEndpoint, createAuthMiddleware } from "better-auth/api";
import { getMigrations } from "better-auth/db/migration";
import { DatabaseSync } from "node:sqlite";
import { LoggerProvider, type LogRecordProcessor } from "@opentelemetry/sdk-logs";
import { RedactionProcessor } from "otel-auth-audit";
import { auditProcessors, bindProcessors } from "../src/pipeline.js";
import { auditLog } from "otel-auth-audit/better-auth";
import { NoopExporter } from "./noop-exporter.js";

export const BASE = "http://localhost:3000";
const fastHash = { hash: async (p: string) => `plain:${p}`, verify: async ({ hash, password }: { hash: string; password: string }) => hash === `plain:${password}` };

/**
 * bare: no plugin. hook: a plugin with one do-nothing after-hook (better-auth's hook machinery
 * alone). pipeline: the audit plugin, store off, emitting through setupAudit's pipeline
 * (redaction, chain, durable spool) into a no-op exporter. stored: the plugin's default, the same
 * pipeline plus the database store.
 */
export type Kind = "bare" | "hook" | "inert" | "pipeline" | "stored";

const noopHook = {
  id: "bench-noop-hook",
  hooks: { after: [{ matcher: () => true, handler: createAuthMiddleware(async () => {}) }] },
} satisfies BetterAuthPlugin;

/**
 * inert: a plugin of the audit plugin's shape that does nothing: three endpoints (as list, get and
 * insert) and one after-hook whose matcher says no. better-auth 1.7 builds its router (every
 * endpoint wrapped and added to the route tree) and gathers the plugins' hooks again on every
 * request, so a plugin's mere presence costs each request, get-session included.
 */
const inertEndpoint = (path: string, method: "GET" | "POST") => createAuthEndpoint(path, { method }, async () => null);
const inert = {
  id: "bench-inert",
  endpoints: { listInert: inertEndpoint("/bench-inert/list", "GET"), getInert: inertEndpoint("/bench-inert/:id", "GET"), insertInert: inertEndpoint("/bench-inert/insert", "POST") },
  hooks: { before: [], after: [{ matcher: () => false, handler: createAuthMiddleware(async () => {}) }] },
} satisfies BetterAuthPlugin;

const spoolDirs: string[] = [];
process.on("exit", () => {
  for (const d of spoolDirs) rmSync(d, { recursive: true, force: true });
});

export interface BenchApp {
  kind: Kind;
  call(path: string, init?: { method?: string; cookie?: string; body?: unknown }): Promise<Response>;
  /** A fresh session cookie (one sign-in). */
  signIn(): Promise<string>;
  /** A session cookie made at start (for get-session). */
  cookie: string;
  /** Waits for the background work of the requests so far: store writes, spool export. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/** Wraps each processor (timers in the stage bench); `name` says which one. */
export type Wrap = (processor: LogRecordProcessor, name: string) => LogRecordProcessor;

/** setupAudit's pipeline (redaction → chain → durable spool → no-op exporter), built by hand so processors can be wrapped. */
function pipeline(wrap: Wrap) {
  const directory = mkdtempSync(join(tmpdir(), "otel-auth-audit-bench-spool-"));
  spoolDirs.push(directory);
  const processors = auditProcessors({ integrity: { key: "bench-key" }, exporter: new NoopExporter(), durable: { directory } });
  // only redaction works inside onEmit: the chain and the spool run at the end of the turn, where
  // a wrapper would time a push (and hide the chain's list from it); the profile counts them
  const provider = new LoggerProvider({ processors: processors.map((p) => (p instanceof RedactionProcessor ? wrap(p, "redaction") : p)) });
  bindProcessors(processors, provider);
  return {
    provider,
    flush: () => provider.forceFlush(),
    shutdown: async () => {
      for (const p of processors) (p as { close?: () => void }).close?.();
      await provider.shutdown();
    },
  };
}

export async function benchApp(
  kind: Kind,
  options: { database?: BetterAuthOptions["database"]; scrypt?: boolean; wrap?: Wrap } = {},
): Promise<BenchApp> {
  const wrap = options.wrap ?? ((p) => p);
  const setup = kind === "pipeline" || kind === "stored" ? pipeline(wrap) : undefined;
  // the store's processors are the default ones unless they are wrapped for timing
  const storeProcessors = options.wrap ? { storeProcessors: [wrap(new RedactionProcessor(), "store redaction")] } : {};
  const audit = setup ? auditLog({ loggerProvider: setup.provider, store: kind === "stored", ...storeProcessors }) : undefined;
  const authOptions: BetterAuthOptions = {
    baseURL: BASE,
    secret: "bench-secret-0123456789abcdefghijklmnopqrstuvwxyz",
    database: options.database ?? new DatabaseSync(":memory:"),
    emailAndPassword: { enabled: true, ...(options.scrypt ? {} : { password: fastHash }) },
    rateLimit: { enabled: false },
    logger: { disabled: true },
    telemetry: { enabled: false },
    plugins: kind === "hook" ? [noopHook] : kind === "inert" ? [inert] : audit ? [audit] : [],
  };
  await (await getMigrations(authOptions)).runMigrations();
  const auth = betterAuth(authOptions);
  const call: BenchApp["call"] = (path, init = {}) =>
    auth.handler(
      new Request(`${BASE}/api/auth${path}`, {
        method: init.method ?? "POST",
        headers: {
          "content-type": "application/json",
          origin: BASE,
          "x-forwarded-for": "203.0.113.5",
          "user-agent": "Mozilla/5.0 (bench)",
          ...(init.cookie ? { cookie: init.cookie } : {}),
        },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      }),
    );
  const cookieOf = (r: Response) =>
    r.headers
      .getSetCookie()
      .map((c) => c.split(";")[0])
      .join("; ");
  const email = `bench-${kind}@example.com`;
  const res = await call("/sign-up/email", { body: { email, password: "bench-password-1", name: "B" } });
  if (!res.ok) throw new Error(`bench app ${kind}: sign-up answered ${res.status}: ${await res.text()}`);
  const signIn = async () => {
    const r = await call("/sign-in/email", { body: { email, password: "bench-password-1" } });
    await r.arrayBuffer();
    return cookieOf(r);
  };
  return {
    kind,
    call,
    signIn,
    cookie: cookieOf(res),
    settle: async () => {
      await audit?.audit.flush();
      await setup?.flush();
    },
    close: async () => {
      await audit?.audit.flush();
      await setup?.shutdown();
    },
  };
}
