/**
 * Median latency of better-auth requests through `auth.handler`, with and without the audit
 * plugin, interleaved in one process: get-session (not audited), sign-out (audited), sign-in
 * (scrypt-bound). "audited" is the plugin emitting through the full OTel pipeline of setupAudit
 * (redaction, hash chain, durable spool; the network replaced by a no-op exporter) with the
 * database store off; "stored" is the plugin's default, which also writes each record into the
 * app's database.
 */
import { betterAuth, type BetterAuthOptions } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { DatabaseSync } from "node:sqlite";
import { setupAudit } from "otel-auth-audit";
import { auditLog } from "otel-auth-audit/better-auth";
import { interleave, printTable, writeFigures, type Figure } from "./lib.js";
import { NoopExporter } from "./noop-exporter.js";

const BASE = "http://localhost:3000";
const { provider } = setupAudit({ serviceName: "bench", exporter: new NoopExporter(), global: false, integrity: { key: "bench-key" } });
const fastHash = { hash: async (p: string) => `plain:${p}`, verify: async ({ hash, password }: { hash: string; password: string }) => hash === `plain:${password}` };

type Variant = "bare" | "audited" | "stored";

async function app(variant: Variant, scrypt: boolean) {
  const options: BetterAuthOptions = {
    baseURL: BASE,
    secret: "bench-secret-0123456789abcdefghijklmnopqrstuvwxyz",
    database: new DatabaseSync(":memory:"),
    emailAndPassword: { enabled: true, ...(scrypt ? {} : { password: fastHash }) },
    rateLimit: { enabled: false },
    logger: { disabled: true },
    plugins: variant === "bare" ? [] : [auditLog({ loggerProvider: provider, store: variant === "stored" })],
  };
  await (await getMigrations(options)).runMigrations();
  const auth = betterAuth(options);
  const call = (path: string, init: { method?: string; cookie?: string; body?: unknown } = {}) =>
    auth.handler(
      new Request(`${BASE}/api/auth${path}`, {
        method: init.method ?? "POST",
        headers: { "content-type": "application/json", origin: BASE, "x-forwarded-for": "203.0.113.5", "user-agent": "bench", ...(init.cookie ? { cookie: init.cookie } : {}) },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      }),
    );
  const res = await call("/sign-up/email", { body: { email: "bench@example.com", password: "bench-password-1", name: "B" } });
  const cookieOf = (r: Response) => r.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  const signIn = async () => cookieOf(await call("/sign-in/email", { body: { email: "bench@example.com", password: "bench-password-1" } }));
  return { call, cookie: cookieOf(res), signIn };
}

const [bare, audited, stored] = await Promise.all([app("bare", false), app("audited", false), app("stored", false)]);
const [bareScrypt, auditedScrypt] = await Promise.all([app("bare", true), app("audited", true)]);

const getSession = (a: typeof bare) => async (ops: number) => {
  for (let i = 0; i < ops; i++) await (await a.call("/get-session", { method: "GET", cookie: a.cookie })).arrayBuffer();
};
// each sign-out needs its own session, made outside the timed loop
const sessions = new Map<typeof bare, string[]>();
const prepare = async (a: typeof bare, n: number) => sessions.set(a, await Promise.all(Array.from({ length: n }, () => a.signIn())));
const signOut = (a: typeof bare) => async (ops: number) => {
  const cookies = sessions.get(a)!;
  for (let i = 0; i < ops; i++) await (await a.call("/sign-out", { cookie: cookies.pop() })).arrayBuffer();
};
const signIn = (a: typeof bare) => async (ops: number) => {
  for (let i = 0; i < ops; i++) await (await a.call("/sign-in/email", { body: { email: "bench@example.com", password: "bench-password-1" } })).arrayBuffer();
};

const gs = await interleave({ bare: getSession(bare), audited: getSession(audited), stored: getSession(stored) }, { rounds: 15, ops: 200 });

const SIGN_OUT_OPS = 100;
const soSamples = { bare: [] as number[], audited: [] as number[], stored: [] as number[] };
for (let round = 0; round < 15; round++) {
  await Promise.all([prepare(bare, SIGN_OUT_OPS), prepare(audited, SIGN_OUT_OPS), prepare(stored, SIGN_OUT_OPS)]);
  const r = await interleave({ bare: signOut(bare), audited: signOut(audited), stored: signOut(stored) }, { rounds: 1, ops: SIGN_OUT_OPS, warmup: 0 });
  soSamples.bare.push(r.bare);
  soSamples.audited.push(r.audited);
  soSamples.stored.push(r.stored);
}
const { median } = await import("./lib.js");
const so = { bare: median(soSamples.bare), audited: median(soSamples.audited), stored: median(soSamples.stored) };
const si = await interleave({ bare: signIn(bareScrypt), audited: signIn(auditedScrypt) }, { rounds: 9, ops: 10, warmup: 1 });

const fig = (value: number, baseline: number): Figure => ({ value, unit: "µs/request", baseline, ratio: value / baseline });
const figures = {
  "request.get_session_vs_bare": fig(gs.audited, gs.bare),
  "request.get_session_stored_vs_bare": fig(gs.stored, gs.bare),
  "request.sign_out_vs_bare": fig(so.audited, so.bare),
  "request.sign_out_stored_vs_bare": fig(so.stored, so.bare),
  "request.sign_in_vs_bare": fig(si.audited, si.bare),
};
printTable(Object.entries(figures).map(([name, f]) => ({ figure: name, "bare µs": f.baseline!.toFixed(0), "audited µs": f.value.toFixed(0), ratio: f.ratio!.toFixed(3) })));
writeFigures(figures);
await provider.shutdown();
