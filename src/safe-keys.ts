/**
 * The one place keys from requests and callers become object paths. A key such as
 * `"__proto__.role"` must never walk into a prototype: every object built here has no prototype,
 * and a path with a `__proto__`, `constructor` or `prototype` segment (or an empty one) is refused.
 */

const FORBIDDEN = new Set(["__proto__", "constructor", "prototype"]);

/** A key segment that may name a property of an object we build. */
export function isSafeSegment(segment: string): boolean {
  return segment !== "" && !FORBIDDEN.has(segment);
}

/** `a.b.c` → `["a", "b", "c"]`, or undefined when any segment is unsafe (or empty: `a..b`, `.a`). */
export function safeSplit(key: string): string[] | undefined {
  const parts = key.split(".");
  for (const part of parts) if (!isSafeSegment(part)) return undefined;
  return parts;
}

/** An object with no prototype: nothing written into it can reach Object.prototype. */
export function bareObject<T = unknown>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/**
 * `{ "requestBody.rememberMe": true }` → `{ requestBody: { rememberMe: true } }`, built from
 * prototype-free objects. Keys with an unsafe segment are left out; `dropped` counts them. Where a
 * key is both a value and a prefix (`a` and `a.b`), the later one wins, as before.
 */
export function unflatten(flat: Record<string, unknown>): { value: Record<string, unknown>; dropped: number } {
  const out = bareObject();
  let dropped = 0;
  for (const key of Object.keys(flat)) {
    const parts = safeSplit(key);
    if (!parts) {
      dropped++;
      continue;
    }
    let node = out;
    for (let i = 0; i < parts.length - 1; i++) {
      const part = parts[i]!;
      const next = Object.hasOwn(node, part) ? node[part] : undefined;
      if (next === null || typeof next !== "object" || Array.isArray(next)) node[part] = bareObject();
      node = node[part] as Record<string, unknown>;
    }
    node[parts[parts.length - 1]!] = flat[key];
  }
  return { value: out, dropped };
}

/** JSON.parse that leaves out `__proto__`/`constructor`/`prototype` keys at any depth (stored JSON, request text). */
export function parseJsonSafely(text: string): unknown {
  return JSON.parse(text, (key, value: unknown) => (key !== "" && FORBIDDEN.has(key) ? undefined : value));
}
