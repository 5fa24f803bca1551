/**
 * What every adversarial test needs: a real better-auth app with the plugin (its store on sqlite or
 * memory), the exported OTLP bytes and the stored rows as text to search for canaries, and a check
 * that nothing reached Object.prototype.
 */
import { JsonLogsSerializer } from "@opentelemetry/otlp-transformer";
import { admin } from "better-auth/plugins";
import { expect } from "vitest";
import { auditLog } from "otel-auth-audit/better-auth";
import { createTestAudit } from "otel-auth-audit/testing";
import { createStoreApp, settle, type Backend } from "../helpers/store-app.js";

export const PASSWORD = "correct-horse-battery-1";

/** Own property names and descriptors of the prototypes an attacker would aim at. */
const TARGETS = [Object.prototype, Array.prototype, Function.prototype, String.prototype];
const snapshot = () => TARGETS.map((p) => Object.getOwnPropertyNames(p).sort().join(","));
const BASELINE = snapshot();

/** Fails when any property was added to (or removed from) a shared prototype. */
export function expectPrototypesClean(): void {
  expect(snapshot()).toEqual(BASELINE);
  const probe: Record<string, unknown> = {};
  for (const key of ["role", "isAdmin", "admin", "1", "polluted"]) expect(probe[key], `Object.prototype.${key}`).toBeUndefined();
}

export async function adversarialApp(backend: Backend, pluginOptions: Parameters<typeof auditLog>[0] = {}) {
  const t = createTestAudit();
  const plugin = auditLog({ loggerProvider: t.provider, ...pluginOptions });
  const app = await createStoreApp(backend, { plugins: [plugin, admin()] });
  const signUp = async (email: string) => {
    const r = await app.post("/sign-up/email", { email, password: PASSWORD, name: "someone" });
    expect(r.status).toBe(200);
    return { cookie: r.cookie!, userId: r.json.user.id as string };
  };
  const makeAdmin = async (email: string) => {
    const { userId } = await signUp(email);
    const ctx = await app.auth.$context;
    await ctx.internalAdapter.updateUser(userId, { role: "admin" });
    const r = await app.post("/sign-in/email", { email, password: PASSWORD });
    return { cookie: r.cookie!, userId };
  };
  /** Every byte that left the process: the OTLP JSON export. */
  const exported = () => new TextDecoder().decode(JsonLogsSerializer.serializeRequest(t.records()));
  /** Every stored row, as text. */
  const stored = async () => {
    await plugin.audit.flush();
    await settle();
    if (app.database) return JSON.stringify(app.database.prepare("SELECT * FROM auditLog").all());
    return JSON.stringify((app as { memory?: Record<string, unknown[]> }).memory?.auditLog ?? []);
  };
  return { t, plugin, ...app, signUp, makeAdmin, exported, stored };
}

/** Where a canary leaked, for the failure message. */
export function leaks(haystack: string, canaries: string[]): string[] {
  return canaries.filter((c) => haystack.includes(c) || haystack.includes(JSON.stringify(c).slice(1, -1)));
}
