/** Credentials fields that name the account a sign-in tried, in the order they are looked for. */
export const DEFAULT_IDENTIFIER_FIELDS = ["email", "username", "identifier", "login", "phone", "phoneNumber"];

/**
 * The first non-empty identifier field of submitted credentials. Read with `Object.hasOwn` only, so
 * a field name can never reach a prototype.
 */
export function identifierOf(credentials: unknown, fields: readonly string[]): string | undefined {
  if (!credentials || typeof credentials !== "object") return undefined;
  for (const field of fields) {
    if (!Object.hasOwn(credentials, field)) continue;
    const value = (credentials as Record<string, unknown>)[field];
    if (typeof value === "string" && value.trim() !== "") return value;
  }
  return undefined;
}
