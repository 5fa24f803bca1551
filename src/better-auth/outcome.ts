import { isAPIError } from "better-auth/api";
import type { AuditOutcome } from "../event.js";
import { boundedErrorCode } from "../error-code.js";

export interface EndpointOutcome {
  outcome: AuditOutcome;
  statusCode: number;
  /** better-auth's error code (`INVALID_EMAIL_OR_PASSWORD`), or the `error` of a failure redirect. */
  error?: string;
}

/**
 * What an endpoint's result means. better-auth hands after-hooks an APIError for thrown errors:
 * >= 400 is a failure; a redirect is a success unless its location carries `error=` (how a
 * failed OAuth callback answers).
 */
export function outcomeOf(returned: unknown): EndpointOutcome {
  if (!isAPIError(returned)) return { outcome: "success", statusCode: 200 };
  const apiError = returned as { statusCode: number; status: string | number; body?: unknown; headers?: unknown };
  const statusCode = apiError.statusCode;
  if (statusCode >= 400) {
    const body = apiError.body as { code?: unknown } | undefined;
    const code = typeof body?.code === "string" && body.code ? body.code : String(apiError.status);
    return { outcome: "failure", statusCode, error: boundedErrorCode(code) };
  }
  const location = redirectLocation(apiError);
  const error = location ? errorParam(location) : undefined;
  return error ? { outcome: "failure", statusCode, error: boundedErrorCode(error) } : { outcome: "success", statusCode };
}

function redirectLocation(error: { headers?: unknown }): string | undefined {
  const headers = error.headers;
  if (headers instanceof Headers) return headers.get("location") ?? undefined;
  if (headers && typeof headers === "object") {
    const value = (headers as Record<string, unknown>).location ?? (headers as Record<string, unknown>).Location;
    return typeof value === "string" ? value : undefined;
  }
  return undefined;
}

function errorParam(location: string): string | undefined {
  try {
    const url = new URL(location, "http://relative.invalid");
    return url.searchParams.get("error") ?? undefined;
  } catch {
    return undefined;
  }
}
