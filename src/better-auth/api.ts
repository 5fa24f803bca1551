/**
 * better-auth is an optional peer dependency: the package root (AuthAuditInstrumentation) imports
 * this adapter, and must still load in an Auth.js app that has no better-auth installed.
 */
type BetterAuthApi = typeof import("better-auth/api");

const loaded: BetterAuthApi | undefined = await import("better-auth/api").catch(() => undefined);

export function betterAuthApi(): BetterAuthApi {
  if (!loaded) throw new Error("otel-auth-audit/better-auth needs the `better-auth` package (>= 1.7); install it");
  return loaded;
}
