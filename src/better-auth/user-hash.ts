import { createHmac } from "node:crypto";

const keys = new WeakMap<object, Buffer>();

/**
 * A keyed hash (`user.hash`) of the identifier a sign-in attempt named — email, username or
 * phone — so failures against one account correlate without the address leaving the process.
 * The key derives from better-auth's own secret: stable across restarts and instances, app-specific.
 */
export function userHashOf(body: Record<string, unknown>, secret: string, cacheOwner: object): string | undefined {
  const identifier = [body.email, body.username, body.phoneNumber].find((v): v is string => typeof v === "string" && v.trim() !== "");
  // no secret (a context not built by better-auth): no hash, rather than a throwing hook
  if (!identifier || !secret) return undefined;
  let key = keys.get(cacheOwner);
  if (!key) {
    key = createHmac("sha256", secret).update("otel-auth-audit user.hash v1").digest();
    keys.set(cacheOwner, key);
  }
  return createHmac("sha256", key).update(identifier.trim().toLowerCase()).digest("hex").slice(0, 32);
}
