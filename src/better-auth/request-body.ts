import { bareObject, isSafeSegment } from "../safe-keys.js";

/** Keys whose values are credentials: never copied from a request body into a record. */
const SECRET_KEY = /pass(word)?|token|secret|api[-_]?key|^key$|otp|^code$|backup[-_]?codes?|totp|cookie|authorization|credential|private/i;
const MAX_DEPTH = 8;
const MAX_ITEMS = 100;

/**
 * A copy of a request body without credential-like keys, at any depth, built of prototype-free
 * objects: a body key `__proto__`, `constructor` or `prototype` is left out, never followed.
 * Defence in depth: the RedactionProcessor redacts again at the record level.
 */
export function withoutSecrets(value: unknown, depth = 0): unknown {
  if (depth > MAX_DEPTH) return "[truncated]";
  if (Array.isArray(value)) return value.slice(0, MAX_ITEMS).map((v) => withoutSecrets(v, depth + 1));
  if (value === null || typeof value !== "object") return value;
  const out = bareObject();
  let n = 0;
  for (const key of Object.keys(value)) {
    if (n++ >= MAX_ITEMS) break;
    if (isSafeSegment(key) && !key.includes(".") && !SECRET_KEY.test(key)) out[key] = withoutSecrets((value as Record<string, unknown>)[key], depth + 1);
  }
  return out;
}
