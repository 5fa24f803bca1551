/** Keys whose values are credentials: never copied from a request body into a record. */
const SECRET_KEY = /pass(word)?|token|secret|api[-_]?key|^key$|otp|^code$|backup[-_]?codes?|totp|cookie|authorization|credential|private/i;

/**
 * A copy of a request body without credential-like keys, at any depth. Defence in depth: the
 * RedactionProcessor redacts again at the record level.
 */
export function withoutSecrets(value: unknown, depth = 0): unknown {
  if (depth > 8) return "[truncated]";
  if (Array.isArray(value)) return value.map((v) => withoutSecrets(v, depth + 1));
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (!SECRET_KEY.test(key)) out[key] = withoutSecrets(v, depth + 1);
  }
  return out;
}
