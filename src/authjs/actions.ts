import type { AuthAccountLike } from "./types.js";

/**
 * Action names in the better-auth scheme, so one dashboard reads both libraries:
 * `sign-in:<provider type>` (`credentials`, `oauth`, `email`, `webauthn`), `sign-up:<type>` for a
 * new user's first sign-in, and one name per Auth.js event.
 */
export const ACTIONS = {
  signOut: "sign-out",
  createUser: "create-user",
  updateUser: "update-user",
  linkAccount: "link-account",
  session: "session",
} as const;

/** OIDC is OAuth to the person reading the trail; the precise type stays in `metadata.providerType`. */
const normaliseType = (type: string): string => (type === "oidc" ? "oauth" : type);

/** `sign-in:credentials`, `sign-in:oauth`, `sign-up:oauth` (first sign-in of a new user), or `sign-in` when the type is unknown. */
export function signInAction(providerType: string | undefined, isNewUser = false): string {
  const verb = isNewUser ? "sign-up" : "sign-in";
  return providerType ? `${verb}:${normaliseType(providerType)}` : verb;
}

/** Provider id → provider type, from `config.providers` (objects, or v5 provider functions). */
export function providerTypes(providers: unknown): Map<string, string> {
  const types = new Map<string, string>();
  if (!Array.isArray(providers)) return types;
  for (const entry of providers) {
    let provider: unknown = entry;
    if (typeof entry === "function") {
      // Auth.js v5 calls a bare provider function with no options; so can we
      try {
        provider = (entry as () => unknown)();
      } catch {
        continue;
      }
    }
    if (!provider || typeof provider !== "object") continue;
    const p = provider as { id?: unknown; type?: unknown; options?: { id?: unknown } };
    const id = typeof p.options?.id === "string" ? p.options.id : p.id;
    if (typeof id === "string" && typeof p.type === "string") types.set(id, p.type);
  }
  return types;
}

/** What a record says about the provider: its id, and its type when OIDC was folded into OAuth. */
export function providerMetadata(account: AuthAccountLike | null | undefined, providerId?: string): Record<string, unknown> | undefined {
  const provider = account?.provider ?? providerId;
  if (!provider) return undefined;
  return account?.type === "oidc" ? { provider, providerType: "oidc" } : { provider };
}
