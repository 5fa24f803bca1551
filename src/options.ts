import * as z from "zod";
import { AuditOptionsError } from "./errors.js";

/**
 * The one way options are checked: every public constructor and factory parses its options with a
 * zod schema here, at construction. A wrong type, value or unknown key throws one
 * AuditOptionsError naming the option (`durable.overflow`) and what it accepts; nothing is
 * silently ignored or reinterpreted.
 *
 * Schemas should be strict objects (`z.strictObject`) so a misspelt option is refused too.
 */
export function parseOptions<S extends z.ZodType>(where: string, schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issue = specific(result.error.issues[0]!);
  const path = optionPath(issue);
  throw new AuditOptionsError(`otel-auth-audit: ${where}: option \`${path || "(options)"}\` ${describe(issue)}`, path, where);
}

/**
 * For a value that matches no branch of a union (`false | { windowMs }`), the issue of the branch
 * that got furthest: `ip.windowMs` is invalid, not `ip`.
 */
function specific(issue: z.core.$ZodIssue): z.core.$ZodIssue {
  if (issue.code !== "invalid_union" || issue.errors.length === 0) return issue;
  let best: z.core.$ZodIssue | undefined;
  for (const branch of issue.errors) {
    const first = branch[0];
    if (first && (!best || first.path.length > best.path.length)) best = first;
  }
  if (!best || best.path.length === 0) return issue;
  return specific({ ...best, path: [...issue.path, ...best.path] } as z.core.$ZodIssue);
}

function optionPath(issue: z.core.$ZodIssue): string {
  const segments = issue.path.map(String);
  // An unknown key is reported on its parent; name the key itself.
  if (issue.code === "unrecognized_keys") segments.push(issue.keys[0] ?? "");
  return segments.join(".");
}

function describe(issue: z.core.$ZodIssue): string {
  if (issue.code === "unrecognized_keys") return "is not an option here";
  if (issue.code === "invalid_value") return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
  // a value no branch of a union accepts at its top: name what each branch accepts
  if (issue.code === "invalid_union" && issue.errors.length > 0) {
    return `is invalid: expected ${issue.errors.map((branch) => (branch[0] ? accepted(branch[0]) : "another value")).join(" or ")}`;
  }
  return `is invalid: ${issue.message}`;
}

/** What one branch of a union accepts, in a few words. */
function accepted(issue: z.core.$ZodIssue): string {
  if (issue.code === "invalid_value") return issue.values.map((v) => JSON.stringify(v)).join(" or ");
  if (issue.code === "invalid_type") return `a value of type ${issue.expected}`;
  return issue.message.replace(/^expected /, "");
}

/** Small shared pieces of option schemas. */
export const optionSchemas = {
  /** A positive whole number (a size, a count, milliseconds). */
  positiveInt: () => z.number().int().positive(),
  nonNegativeInt: () => z.number().int().nonnegative(),
  /** A function the user hands us; its signature is TypeScript's to check. */
  fn: () => z.custom<(...args: never[]) => unknown>((v) => typeof v === "function", { message: "expected a function" }),
  /** An object we call methods on (an exporter, a LoggerProvider): checked by the methods it must have. */
  withMethods: <T>(...methods: string[]) =>
    z.custom<T>(
      (v) => typeof v === "object" && v !== null && methods.every((m) => typeof (v as Record<string, unknown>)[m] === "function"),
      { message: `expected an object with ${methods.map((m) => `${m}()`).join(", ")}` },
    ),
};
