/**
 * Operator configuration from the environment: `OTEL_AUTH_AUDIT_*` beside the standard `OTEL_*`
 * variables the SDK reads itself.
 */
import { AuditOptionsError } from "./errors.js";

export interface EnvConfig {
  enabled?: boolean;
  capture?: { ipAddress?: boolean; userAgent?: boolean; requestBody?: boolean };
  /** Integrity (hash chain) key. */
  key?: string;
  /** Redaction HMAC key. */
  redactionKey?: string;
  /** Durable spool directory. */
  spoolDir?: string;
}

/** A boolean variable; any other spelling is refused (AuditOptionsError naming the variable), never read as false. */
const bool = (env: NodeJS.ProcessEnv, name: string): boolean | undefined => {
  const value = env[name];
  if (value === undefined || value.trim() === "") return undefined;
  const v = value.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(v)) return true;
  if (["0", "false", "no", "off"].includes(v)) return false;
  throw new AuditOptionsError(
    `otel-auth-audit: environment: option \`${name}\` is a boolean: one of "true", "false", "1", "0", "yes", "no", "on", "off"; got ${JSON.stringify(value.slice(0, 40))}`,
    name,
    "environment",
  );
};

const text = (value: string | undefined): string | undefined => (value && value.trim() !== "" ? value : undefined);

/** Reads `OTEL_AUTH_AUDIT_*`; unset variables are left out, so options given in code win. */
export function readEnvConfig(env: NodeJS.ProcessEnv = process.env): EnvConfig {
  const capture = {
    ipAddress: bool(env, "OTEL_AUTH_AUDIT_CAPTURE_IP"),
    userAgent: bool(env, "OTEL_AUTH_AUDIT_CAPTURE_USER_AGENT"),
    requestBody: bool(env, "OTEL_AUTH_AUDIT_CAPTURE_REQUEST_BODY"),
  };
  const config: EnvConfig = {
    enabled: bool(env, "OTEL_AUTH_AUDIT_ENABLED"),
    key: text(env.OTEL_AUTH_AUDIT_KEY),
    redactionKey: text(env.OTEL_AUTH_AUDIT_REDACTION_KEY),
    spoolDir: text(env.OTEL_AUTH_AUDIT_SPOOL_DIR),
  };
  const setCapture = Object.fromEntries(Object.entries(capture).filter(([, v]) => v !== undefined));
  if (Object.keys(setCapture).length > 0) config.capture = setCapture;
  return Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined)) as EnvConfig;
}
