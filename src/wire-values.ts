/**
 * Values OTLP cannot carry, and the one encoding they get.
 *
 * OTLP/JSON writes numbers with `JSON.stringify`: NaN and ±Infinity become `null` (a collector
 * answers 400 for the whole request), -0 becomes 0, and a BigInt throws. So before a record is
 * hashed, spooled or stored, such values are replaced, once, by strings:
 *
 * | value | becomes |
 * |---|---|
 * | `NaN` | `"NaN"` |
 * | `Infinity`, `-Infinity` | `"Infinity"`, `"-Infinity"` |
 * | `-0` | `"-0"` |
 * | an integer beyond int64 (\|n\| ≥ 2^63), e.g. `1e21` | `"1e+21"` |
 * | a BigInt | its decimal digits, e.g. `"9007199254740993"` |
 *
 * An array of numbers holding one of them becomes an array of strings (OTLP attribute arrays are
 * homogeneous). The chain hash, the stored row and `verify` all see the string.
 */

const INT64_LIMIT = 2 ** 63;

/** True for a number OTLP/JSON would change or refuse (an integer is sent as int64 `intValue`). */
export function isUnwireableNumber(n: number): boolean {
  return !Number.isFinite(n) || Object.is(n, -0) || (Number.isInteger(n) && Math.abs(n) >= INT64_LIMIT);
}

/** The string a number OTLP cannot carry is written as. */
export function numberText(n: number): string {
  return Object.is(n, -0) ? "-0" : String(n);
}

/** One value made safe for OTLP: see the table above. Plain objects and arrays are walked. */
export function toWireValue(value: unknown): unknown {
  switch (typeof value) {
    case "number":
      return isUnwireableNumber(value) ? numberText(value) : value;
    case "bigint":
      return value.toString();
    case "object": {
      if (value === null || value instanceof Uint8Array || value instanceof Date) return value;
      if (Array.isArray(value)) {
        if (value.some((v) => typeof v === "bigint" || (typeof v === "number" && isUnwireableNumber(v)))) {
          // homogeneous: when one number must be a string, all numbers are
          return value.map((v) => (typeof v === "number" ? numberText(v) : typeof v === "bigint" ? v.toString() : toWireValue(v)));
        }
        return value.some((v) => v !== null && typeof v === "object") ? value.map(toWireValue) : value;
      }
      let out: Record<string, unknown> | undefined;
      for (const [k, v] of Object.entries(value)) {
        const w = toWireValue(v);
        if (w !== v) (out ??= { ...(value as Record<string, unknown>) })[k] = w;
      }
      return out ?? value;
    }
    default:
      return value;
  }
}

/** A JSON.stringify replacer with the same encoding (JSON text of nested metadata). */
export function wireReplacer(_key: string, value: unknown): unknown {
  if (typeof value === "number") return isUnwireableNumber(value) ? numberText(value) : value;
  if (typeof value === "bigint") return value.toString();
  return value;
}
