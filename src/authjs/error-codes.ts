/**
 * `error.type` is a bounded code, never free text: Auth.js v4 copies a thrown message into
 * `?error=` (`throw new Error(\`No user found with email ${email}\`)` in `authorize`), and v5 lets
 * an app subclass its errors. Only the codes both lines define get through; anything else becomes
 * `UnknownError`, and the text is dropped (it may hold an e-mail or a password).
 */

/** Auth.js v5 (`@auth/core`) AuthError types, plus `Configuration`, the code v5 shows a browser for a server error. */
const V5_TYPES = [
  "AccessDenied",
  "AccountNotLinked",
  "AdapterError",
  "CallbackRouteError",
  "Configuration",
  "CredentialsSignin",
  "DuplicateConditionalUI",
  "EmailSignInError",
  "ErrorPageLoop",
  "EventError",
  "ExperimentalFeatureNotEnabled",
  "InvalidCallbackUrl",
  "InvalidCheck",
  "InvalidEndpoints",
  "InvalidProvider",
  "JWTSessionError",
  "MissingAdapter",
  "MissingAdapterMethods",
  "MissingAuthorize",
  "MissingCSRF",
  "MissingSecret",
  "MissingWebAuthnAutocomplete",
  "OAuthAccountNotLinked",
  "OAuthCallbackError",
  "OAuthProfileParseError",
  "OAuthSignInError",
  "SessionTokenError",
  "SignOutError",
  "UnknownAction",
  "UnsupportedStrategy",
  "UntrustedHost",
  "Verification",
  "WebAuthnVerificationError",
];

/** NextAuth v4 error-page codes (`?error=`), as its `pages/error` and `pages/signin` name them. */
const V4_CODES = [
  "AccessDenied",
  "Callback",
  "Configuration",
  "CredentialsSignin",
  "Default",
  "EmailCreateAccount",
  "EmailSignin",
  "OAuthAccountNotLinked",
  "OAuthCallback",
  "OAuthCreateAccount",
  "OAuthSignin",
  "SessionRequired",
  "Signin",
  "Verification",
];

/** The generic code for anything outside the known set. */
export const UNKNOWN_ERROR = "UnknownError";

// Keyed by lower case: v4 itself answers `error=configuration` once
const KNOWN = new Map([...V5_TYPES, ...V4_CODES].map((code) => [code.toLowerCase(), code]));

/** The known Auth.js code `text` names (case-insensitively), else `UnknownError`. */
export function boundedErrorCode(text: unknown): string {
  if (typeof text !== "string" || text.length > 40) return UNKNOWN_ERROR;
  return KNOWN.get(text.toLowerCase()) ?? UNKNOWN_ERROR;
}

/** True when `text` is one of the known codes, exactly. */
export const isKnownErrorCode = (text: unknown): text is string => typeof text === "string" && KNOWN.get(text.toLowerCase()) === text;
