import type { AnyValue, Attributes } from "@opentelemetry/api";
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_URL_PATH,
  ATTR_USER_AGENT_ORIGINAL,
} from "@opentelemetry/semantic-conventions";
import { ATTR_SESSION_ID, ATTR_USER_HASH, ATTR_USER_ID } from "@opentelemetry/semantic-conventions/incubating";
import type { AuditEvent, AuditOrigin, AuditOutcome, AuditSeverity } from "./event.js";
import { bareObject, safeSplit } from "./safe-keys.js";
import { toWireValue, wireReplacer } from "./wire-values.js";

/** Attribute names of an audit record (DESIGN.md's table). */
export const AUDIT_ATTR = {
  action: "audit.action",
  outcome: "audit.outcome",
  severity: "audit.severity",
  id: "audit.id",
  actorId: "audit.actor.id",
  origin: "audit.origin",
  metadataPrefix: "audit.metadata.",
  userId: ATTR_USER_ID,
  userHash: ATTR_USER_HASH,
  sessionId: ATTR_SESSION_ID,
  clientAddress: ATTR_CLIENT_ADDRESS,
  userAgent: ATTR_USER_AGENT_ORIGINAL,
  httpMethod: ATTR_HTTP_REQUEST_METHOD,
  urlPath: ATTR_URL_PATH,
  httpRoute: ATTR_HTTP_ROUTE,
  httpStatusCode: ATTR_HTTP_RESPONSE_STATUS_CODE,
  errorType: ATTR_ERROR_TYPE,
} as const;

/** Flattening stops here; deeper values are kept as JSON strings. */
const MAX_METADATA_DEPTH = 4;
/** More metadata keys than this are dropped and counted in `audit.metadata_dropped`. */
const MAX_METADATA_ATTRIBUTES = 64;
/** Longer metadata keys are dropped (and counted): a key is a name, not a place for data. */
const MAX_METADATA_KEY_LENGTH = 256;

const eventNames = new Map<string, string>();

/** Events a client reported (`origin: "client"`) live under their own name: never mistaken for a server event. */
export const CLIENT_EVENT_PREFIX = "auth.client.";

/**
 * `sign-in:email` → `auth.sign_in.email`, `admin:ban-user` → `auth.admin.ban_user`; a client-reported
 * event → `auth.client.<…>` whatever its action says.
 */
export function eventNameFor(action: string, origin?: AuditOrigin): string {
  if (origin === "client") return CLIENT_EVENT_PREFIX + toSnake(action);
  let name = eventNames.get(action);
  if (name === undefined) {
    name = `auth.${toSnake(action)}`;
    // actions come from a small fixed set; the bound guards against callers that put ids in them
    if (eventNames.size < 1000) eventNames.set(action, name);
  }
  return name;
}

function toSnake(action: string): string {
  return action
    .normalize("NFKC")
    .toLowerCase()
    .replace(/[:/]+/g, ".")
    .replace(/[^a-z0-9_.]+/g, "_")
    .replace(/\.{2,}/g, ".")
    .replace(/^\.+|\.+$/g, "");
}

/** An AuditEvent as flat OTel attributes, in the names of the attribute table. */
export function toAttributes(event: AuditEvent): Attributes {
  const attrs: Attributes = {
    [AUDIT_ATTR.action]: event.action,
    [AUDIT_ATTR.outcome]: event.outcome,
    [AUDIT_ATTR.severity]: event.severity,
    [AUDIT_ATTR.id]: event.id,
  };
  if (event.userId) attrs[AUDIT_ATTR.userId] = event.userId;
  if (event.userHash) attrs[AUDIT_ATTR.userHash] = event.userHash;
  if (event.sessionId) attrs[AUDIT_ATTR.sessionId] = event.sessionId;
  if (event.actorId) attrs[AUDIT_ATTR.actorId] = event.actorId;
  if (event.ipAddress) attrs[AUDIT_ATTR.clientAddress] = event.ipAddress;
  if (event.userAgent) attrs[AUDIT_ATTR.userAgent] = event.userAgent;
  if (event.method) attrs[AUDIT_ATTR.httpMethod] = event.method;
  if (event.path) attrs[AUDIT_ATTR.urlPath] = event.path;
  if (event.route) attrs[AUDIT_ATTR.httpRoute] = event.route;
  if (event.statusCode !== undefined) attrs[AUDIT_ATTR.httpStatusCode] = event.statusCode;
  if (event.error) attrs[AUDIT_ATTR.errorType] = event.error;
  if (event.origin) attrs[AUDIT_ATTR.origin] = event.origin;
  if (event.metadata) flattenMetadata(event.metadata, attrs);
  return attrs;
}

function flattenMetadata(metadata: Record<string, unknown>, attrs: Attributes): void {
  let count = 0;
  let dropped = 0;
  const visit = (value: unknown, key: string, depth: number): void => {
    if (value === undefined || value === null || typeof value === "function") return;
    // a key that would walk into a prototype (`__proto__.role`) or has an empty segment never becomes a path
    if (key.length > MAX_METADATA_KEY_LENGTH || !safeSplit(key)) {
      dropped++;
      return;
    }
    if (isPlainObject(value) && depth < MAX_METADATA_DEPTH) {
      for (const k of Object.keys(value)) visit(value[k], `${key}.${k}`, depth + 1);
      return;
    }
    if (count >= MAX_METADATA_ATTRIBUTES) {
      dropped++;
      return;
    }
    count++;
    attrs[AUDIT_ATTR.metadataPrefix + key] = toAttributeValue(value);
  };
  for (const k of Object.keys(metadata)) visit(metadata[k], k, 1);
  if (dropped > 0) attrs["audit.metadata_dropped"] = dropped;
}

/** Numbers OTLP cannot carry (NaN, ±Infinity, -0) and BigInts are encoded once, here: see wire-values.ts. */
function toAttributeValue(value: unknown): string | number | boolean | string[] | number[] | boolean[] {
  if (typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number" || typeof value === "bigint") return toWireValue(value) as string | number;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString();
  if (Array.isArray(value) && value.length > 0) {
    const kind = typeof value[0];
    if ((kind === "string" || kind === "number" || kind === "boolean") && value.every((v) => typeof v === kind)) {
      return toWireValue(value) as string[] | number[] | boolean[];
    }
  }
  return jsonText(value);
}

/** JSON text of a deeper value; a cyclic, too deep or unserializable one becomes a marker, never a throw. */
function jsonText(value: unknown): string {
  try {
    return JSON.stringify(value, wireReplacer) ?? String(value);
  } catch {
    return "[unserializable]";
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Reads an AuditEvent back from a record's attributes and timestamp (readers, test finders). */
export function fromAttributes(attributes: Attributes | Record<string, AnyValue>, time: Date): AuditEvent {
  const a = attributes as Record<string, AnyValue>;
  const str = (k: string): string | undefined => (typeof a[k] === "string" ? (a[k] as string) : undefined);
  // prototype-free: a stored key such as `audit.metadata.__proto__` stays a plain key
  const metadata = bareObject();
  for (const [k, v] of Object.entries(a)) {
    if (k.startsWith(AUDIT_ATTR.metadataPrefix)) metadata[k.slice(AUDIT_ATTR.metadataPrefix.length)] = v;
  }
  const status = a[AUDIT_ATTR.httpStatusCode];
  const origin = str(AUDIT_ATTR.origin);
  return {
    action: str(AUDIT_ATTR.action) ?? "",
    outcome: (str(AUDIT_ATTR.outcome) ?? "success") as AuditOutcome,
    severity: (str(AUDIT_ATTR.severity) ?? "low") as AuditSeverity,
    id: str(AUDIT_ATTR.id) ?? "",
    userId: str(AUDIT_ATTR.userId) ?? null,
    userHash: str(AUDIT_ATTR.userHash),
    sessionId: str(AUDIT_ATTR.sessionId),
    actorId: str(AUDIT_ATTR.actorId),
    ipAddress: str(AUDIT_ATTR.clientAddress),
    userAgent: str(AUDIT_ATTR.userAgent),
    method: str(AUDIT_ATTR.httpMethod),
    path: str(AUDIT_ATTR.urlPath),
    route: str(AUDIT_ATTR.httpRoute),
    statusCode: typeof status === "number" ? status : undefined,
    error: str(AUDIT_ATTR.errorType),
    metadata: Object.keys(metadata).length > 0 ? metadata : undefined,
    origin: origin === "client" || origin === "server" ? (origin as AuditOrigin) : undefined,
    time,
  };
}
