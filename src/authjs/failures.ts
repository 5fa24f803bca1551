import { boundedErrorCode, UNKNOWN_ERROR } from "./error-codes.js";

/**
 * How a failed sign-in shows itself. Auth.js v5 throws an AuthError and passes it to
 * `logger.error`; next-auth 4 logs nothing for a bad password or a refused `signIn` callback and
 * only answers 401 / 403 or redirects to its error page with `?error=<code>`. The adapter's own
 * hooks (`authorize`, `sendVerificationRequest`, the `signIn` callback) see the rest first.
 */

/** v5 error types that mean "this sign-in attempt failed", with the provider type each implies. */
const SIGN_IN_FAILURES = new Map<string, string | undefined>([
  ["CredentialsSignin", "credentials"],
  ["AccessDenied", undefined],
  ["CallbackRouteError", undefined],
  ["OAuthCallbackError", "oauth"],
  ["OAuthSignInError", "oauth"],
  ["OAuthAccountNotLinked", "oauth"],
  ["OAuthProfileParseError", "oauth"],
  ["AccountNotLinked", undefined],
  ["EmailSignInError", "email"],
  ["Verification", "email"],
  ["InvalidCheck", undefined],
  ["MissingCSRF", undefined],
  ["WebAuthnVerificationError", "webauthn"],
]);

/** The Auth.js v5 error type (`CredentialsSignin`) when the logged error is a failed sign-in. */
export function signInFailureType(error: unknown): string | undefined {
  const type = authErrorType(error);
  return type && SIGN_IN_FAILURES.has(type) ? type : undefined;
}

/** The provider type a v5 failure type implies when nothing else names the provider. */
export const providerTypeOfFailure = (type: string): string | undefined => SIGN_IN_FAILURES.get(type);

/** The `type` of an Auth.js v5 AuthError (or an app's subclass), if it is one of the known codes. */
export function authErrorType(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const type = (error as { type?: unknown }).type;
  if (typeof type !== "string") return undefined;
  const code = boundedErrorCode(type);
  return code === UNKNOWN_ERROR ? undefined : code;
}

/** The provider a v5 CallbackRouteError names in its cause (`{ err, provider }`). */
export function providerOfError(error: unknown): string | undefined {
  const cause = (error as { cause?: { provider?: unknown } } | null)?.cause;
  return typeof cause?.provider === "string" ? cause.provider : undefined;
}

/** The app error a v5 AuthError wraps (`cause.err`). */
export const wrappedError = (error: unknown): unknown => (error as { cause?: { err?: unknown } } | null)?.cause?.err;

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
 * else 401 → CredentialsSignin and 403 → AccessDenied as next-auth 4 answers them. Never free
 * text: v4 puts a thrown message in `error=`; that becomes CredentialsSignin on a 401 (only
 * `authorize` answers 401) and UnknownError otherwise.
 */
export function failureFromResponse(status: number, url: string | undefined): string | undefined {
  const fromUrl = url ? errorParam(url) : undefined;
  if (fromUrl) {
    const code = boundedErrorCode(fromUrl);
    return code === UNKNOWN_ERROR && status === 401 ? "CredentialsSignin" : code;
  }
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
