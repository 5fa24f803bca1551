/** An error code is a short identifier; anything else (free text from a redirect, an app, a caller) is not recorded as one. */
const ERROR_CODE = /^(?:[A-Za-z_][A-Za-z0-9_.-]{0,63}|\d{3})$/;
/** What `error.type` says when the error given was not a code (its text, if any, is in the redacted body). */
export const UNRECOGNISED_ERROR = "UNRECOGNISED_ERROR";

/** `INVALID_EMAIL_OR_PASSWORD` stays; `No user found with email a@b.c` or a token becomes UNRECOGNISED_ERROR. */
export function boundedErrorCode(code: string): string {
  // a long run mixing letters and digits is a token, not a code
  if (!ERROR_CODE.test(code) || (code.length >= 20 && /\d/.test(code) && /[A-Za-z]/.test(code))) return UNRECOGNISED_ERROR;
  return code;
}
