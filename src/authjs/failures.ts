/**
 * How a failed sign-in shows itself. Auth.js v5 throws an AuthError and passes it to
 * `logger.error`; next-auth 4 logs nothing for a bad password or a refused `signIn` callback and
 * only answers 401 / 403 or redirects to its error page with `?error=<code>`.
 */

/** v5 error types (`error.type`) that mean "this sign-in attempt failed". */
const SIGN_IN_FAILURES = new Set([
  "CredentialsSignin",
  "AccessDenied",
  "CallbackRouteError",
  "OAuthCallbackError",
  "OAuthSignInError",
  "OAuthAccountNotLinked",
  "OAuthProfileParseError",
  "AccountNotLinked",
  "EmailSignInError",
  "Verification",
  "InvalidCheck",
  "MissingCSRF",
  "WebAuthnVerificationError",
]);

/** The Auth.js v5 error type (`CredentialsSignin`) when the logged error is a failed sign-in. */
export function signInFailureType(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const type = (error as { type?: unknown }).type;
  return typeof type === "string" && SIGN_IN_FAILURES.has(type) ? type : undefined;
}

/** The provider a v5 CallbackRouteError names in its cause (`{ err, provider }`). */
export function providerOfError(error: unknown): string | undefined {
  const cause = (error as { cause?: { provider?: unknown } } | null)?.cause;
  return typeof cause?.provider === "string" ? cause.provider : undefined;
}

/**
 * Requests whose failure is a failed sign-in: any callback (OAuth answers by GET), and a POST to
 * `signin` (starting an email or OAuth sign-in). A GET of the sign-in page carries the `?error=`
 * of an earlier failure along and is not one.
 */
export const isSignInAttempt = (authAction: string | undefined, method: string | undefined): boolean =>
  authAction === "callback" || (authAction === "signin" && method === "POST");

/**
 * The error code of a failed sign-in read from the response of a callback/sign-in request: the
 * `error` parameter of the redirect (or of the JSON `{ url }` answered to `json: true` clients),
 * else 401 → CredentialsSignin and 403 → AccessDenied as next-auth 4 answers them.
 */
export function failureFromResponse(status: number, url: string | undefined): string | undefined {
  const fromUrl = url ? errorParam(url) : undefined;
  if (fromUrl) return fromUrl.slice(0, 100);
  if (status === 401) return "CredentialsSignin";
  if (status === 403) return "AccessDenied";
  return undefined;
}

function errorParam(url: string): string | undefined {
  try {
    return new URL(url, "http://relative.invalid").searchParams.get("error") || undefined;
  } catch {
    return undefined;
  }
}
