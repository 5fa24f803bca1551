/**
 * Failed attempts seen where they happen, so they are recorded with the identifier tried and the
 * provider, with or without a wrapped route handler: a Credentials provider's `authorize`
 * returning null or throwing, an e-mail provider's `sendVerificationRequest` throwing. Both
 * Auth.js lines merge `provider.options` over the provider, so both places are wrapped.
 */

type AnyFn = (...args: never[]) => unknown;

/** What happened, for the caller to record; the app's result or error is passed on untouched. */
export interface ProviderFailure {
  providerId: string;
  providerType: string;
  identifier?: string;
  /** The error the app's function threw, if any (for de-duplication against `logger.error`). */
  thrown?: unknown;
  /** v5 hands `authorize` a web Request; v4 a plain object. */
  v5: boolean;
}

export type OnProviderFailure = (failure: ProviderFailure, identifierSource: unknown) => void;

interface ProviderShape {
  id?: unknown;
  type?: unknown;
  authorize?: unknown;
  sendVerificationRequest?: unknown;
  options?: Record<string, unknown> & { id?: unknown; authorize?: unknown; sendVerificationRequest?: unknown };
}

/** Returns the providers with `authorize` / `sendVerificationRequest` wrapped; other entries as given. */
export function hookProviders(providers: unknown, onFailure: OnProviderFailure): unknown {
  if (!Array.isArray(providers)) return providers;
  return providers.map((entry: unknown) => {
    let provider = entry;
    if (typeof entry === "function") {
      // Auth.js v5 calls a bare provider function with no options; calling it here is the same
      try {
        provider = (entry as () => unknown)();
      } catch {
        return entry;
      }
    }
    if (!provider || typeof provider !== "object") return entry;
    const p = provider as ProviderShape;
    const id = typeof p.options?.id === "string" ? p.options.id : p.id;
    if (typeof id !== "string") return entry;
    if (p.type === "credentials") return withHook(p, "authorize", (fn) => hookAuthorize(fn, id, onFailure));
    if (p.type === "email") return withHook(p, "sendVerificationRequest", (fn) => hookSend(fn, id, onFailure));
    return entry;
  });
}

function withHook(p: ProviderShape, name: "authorize" | "sendVerificationRequest", hook: (fn: AnyFn) => AnyFn): ProviderShape {
  const own = p.options?.[name] ?? p[name];
  if (typeof own !== "function") return p;
  const hooked = hook(own as AnyFn);
  return { ...p, [name]: hooked, ...(p.options ? { options: { ...p.options, [name]: hooked } } : {}) };
}

function hookAuthorize(authorize: AnyFn, providerId: string, onFailure: OnProviderFailure): AnyFn {
  return async function (this: unknown, ...args: never[]) {
    const [credentials, request] = args as unknown[];
    const v5 = request instanceof Request;
    let user: unknown;
    try {
      user = await authorize.apply(this, args);
    } catch (thrown) {
      onFailure({ providerId, providerType: "credentials", thrown, v5 }, credentials);
      throw thrown;
    }
    if (!user) onFailure({ providerId, providerType: "credentials", v5 }, credentials);
    return user;
  };
}

function hookSend(send: AnyFn, providerId: string, onFailure: OnProviderFailure): AnyFn {
  return async function (this: unknown, ...args: never[]) {
    try {
      return await send.apply(this, args);
    } catch (thrown) {
      const params = args[0] as { identifier?: unknown; request?: unknown } | undefined;
      // v5 hands the request along; v4 does not
      const v5 = params?.request instanceof Request;
      onFailure({ providerId, providerType: "email", thrown, v5, identifier: typeof params?.identifier === "string" ? params.identifier : undefined }, undefined);
      throw thrown;
    }
  };
}
