import { SCOPE_NAME } from "../version.js";

/** Which instrumentation scopes a processor acts on: ours by default, so ordinary app logs pass untouched. */
export type ScopeSelection = "all" | string[];

export function scopeFilter(scopes: ScopeSelection | undefined): (name: string) => boolean {
  if (scopes === "all") return () => true;
  const names = new Set(scopes ?? [SCOPE_NAME]);
  if (names.size === 1) {
    const only = [...names][0];
    return (name) => name === only;
  }
  return (name) => names.has(name);
}
