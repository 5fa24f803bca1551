import { diag } from "@opentelemetry/api";

/**
 * Calls a user's callback without letting it break the caller: a throw or a rejected promise is
 * reported to OTel's `diag`, as the SDK does with its own internal failures.
 */
export function callSafely<A>(callback: ((arg: A) => unknown) | undefined, arg: A, what: string): void {
  if (!callback) return;
  try {
    const done = callback(arg);
    if (done instanceof Promise) done.catch((error: unknown) => diag.error(`otel-auth-audit: ${what} rejected`, error));
  } catch (error) {
    diag.error(`otel-auth-audit: ${what} threw`, error);
  }
}
