import { createTraceState, type AnyValue, type Attributes, type HrTime, type SpanContext } from "@opentelemetry/api";
import { resourceFromAttributes, type Resource } from "@opentelemetry/resources";
import type { ReadableLogRecord } from "@opentelemetry/sdk-logs";

/**
 * ReadableLogRecord ⇄ bytes for the spool. A record frame carries everything per record; its
 * resource and instrumentation scope are written once per segment as dictionary frames and named
 * by a small id, since every record of a process shares a handful of them.
 */

export const FRAME_RECORD = 1;
export const FRAME_RESOURCE = 2;
export const FRAME_SCOPE = 3;

type Scope = ReadableLogRecord["instrumentationScope"];

/** [traceId, spanId, traceFlags, isRemote, traceState] */
type SpanContextJson = [string, string, number, boolean, string | null];

/**
 * [hrTime s, ns, observed s, ns, resource id, scope id, severityNumber, severityText, eventName,
 *  body, attributes, droppedAttributesCount, spanContext]
 */
export type RecordJson = [
  number, number, number, number, number, number,
  number | null, string | null, string | null,
  unknown, Record<string, unknown>, number, SpanContextJson | null,
];

/** Resource dictionary frame: [id, attributes, schemaUrl]. */
export type ResourceJson = [number, Attributes, string | null];
/** Scope dictionary frame: [id, name, version, schemaUrl, attributes]. */
export type ScopeJson = [number, string, string | null, string | null, Attributes | null];

/** JSON has no bytes: Uint8Array values (allowed in bodies and log attributes) travel tagged. */
const BYTES_TAG = "$otel-auth-audit.bytes";

export function encodeRecord(record: ReadableLogRecord, resourceId: number, scopeId: number): string {
  const sc = record.spanContext;
  const json: RecordJson = [
    record.hrTime[0], record.hrTime[1], record.hrTimeObserved[0], record.hrTimeObserved[1],
    resourceId, scopeId,
    record.severityNumber ?? null, record.severityText ?? null, record.eventName ?? null,
    record.body ?? null, record.attributes as Record<string, unknown>, record.droppedAttributesCount ?? 0,
    sc ? [sc.traceId, sc.spanId, sc.traceFlags, sc.isRemote ?? false, sc.traceState?.serialize() ?? null] : null,
  ];
  // A replacer costs a call per value; audit records are flat primitives, so only pay it when needed.
  return hasBytes(record.body) || hasBytesIn(record.attributes) ? JSON.stringify(json, tagBytes) : JSON.stringify(json);
}

export function encodeResource(id: number, resource: Resource): string {
  const json: ResourceJson = [id, resource.attributes, resource.schemaUrl ?? null];
  return JSON.stringify(json);
}

export function encodeScope(id: number, scope: Scope): string {
  const json: ScopeJson = [id, scope.name, scope.version ?? null, scope.schemaUrl ?? null, scope.attributes ?? null];
  return JSON.stringify(json);
}

/** Rebuilds records; one per segment, since dictionary ids are only unique within a segment. */
export class SegmentDecoder {
  readonly #resources = new Map<number, Resource>();
  readonly #scopes = new Map<number, Scope>();
  readonly #shared: SharedDictionary;

  constructor(shared: SharedDictionary) {
    this.#shared = shared;
  }

  /** Reads a dictionary frame. */
  define(type: number, payload: string): void {
    if (type === FRAME_RESOURCE) {
      const [id] = JSON.parse(payload) as ResourceJson;
      this.#resources.set(id, this.#shared.resource(payload));
    } else if (type === FRAME_SCOPE) {
      const [id] = JSON.parse(payload) as ScopeJson;
      this.#scopes.set(id, this.#shared.scope(payload));
    }
  }

  decode(payload: string): ReadableLogRecord {
    const json = (payload.includes(BYTES_TAG) ? JSON.parse(payload, untagBytes) : JSON.parse(payload)) as RecordJson;
    const [s, ns, os, ons, resourceId, scopeId, severityNumber, severityText, eventName, body, attributes, dropped, sc] = json;
    const resource = this.#resources.get(resourceId) ?? this.#shared.emptyResource;
    const instrumentationScope = this.#scopes.get(scopeId) ?? this.#shared.unknownScope;
    const record: { -readonly [K in keyof ReadableLogRecord]: ReadableLogRecord[K] } = {
      hrTime: [s, ns] as HrTime,
      hrTimeObserved: [os, ons] as HrTime,
      resource,
      instrumentationScope,
      attributes: attributes as Attributes,
      droppedAttributesCount: dropped,
    };
    if (severityNumber !== null) record.severityNumber = severityNumber;
    if (severityText !== null) record.severityText = severityText;
    if (eventName !== null) record.eventName = eventName;
    if (body !== null) record.body = body as AnyValue;
    if (sc) record.spanContext = spanContextOf(sc);
    return record;
  }
}

/**
 * Rebuilt resources and scopes shared across segments, so records of one resource and scope keep
 * one object identity: OTLP transformers group records by the identity of these objects.
 */
export class SharedDictionary {
  readonly #resources = new Map<string, Resource>();
  readonly #scopes = new Map<string, Scope>();
  readonly emptyResource = resourceFromAttributes({});
  readonly unknownScope: Scope = { name: "unknown" };

  resource(payload: string): Resource {
    const key = payload.slice(payload.indexOf(",") + 1);
    let resource = this.#resources.get(key);
    if (!resource) {
      const [, attributes, schemaUrl] = JSON.parse(payload) as ResourceJson;
      resource = resourceFromAttributes(attributes, schemaUrl ? { schemaUrl } : undefined);
      this.#resources.set(key, resource);
    }
    return resource;
  }

  scope(payload: string): Scope {
    const key = payload.slice(payload.indexOf(",") + 1);
    let scope = this.#scopes.get(key);
    if (!scope) {
      const [, name, version, schemaUrl, attributes] = JSON.parse(payload) as ScopeJson;
      scope = {
        name,
        ...(version !== null && { version }),
        ...(schemaUrl !== null && { schemaUrl }),
        ...(attributes !== null && { attributes }),
      };
      this.#scopes.set(key, scope);
    }
    return scope;
  }
}

function spanContextOf([traceId, spanId, traceFlags, isRemote, traceState]: SpanContextJson): SpanContext {
  const sc: SpanContext = { traceId, spanId, traceFlags, isRemote };
  if (traceState) sc.traceState = createTraceState(traceState);
  return sc;
}

/** hasBytes of an attribute map, without a call for each primitive value (most of them). */
function hasBytesIn(attributes: Attributes): boolean {
  for (const key in attributes) {
    const v = attributes[key];
    if (typeof v === "object" && v !== null && hasBytes(v)) return true;
  }
  return false;
}

function hasBytes(value: unknown): boolean {
  if (value === null || typeof value !== "object") return false;
  if (value instanceof Uint8Array) return true;
  if (Array.isArray(value)) return value.some(hasBytes);
  for (const key in value) if (hasBytes((value as Record<string, unknown>)[key])) return true;
  return false;
}

function tagBytes(this: unknown, _key: string, value: unknown): unknown {
  // Buffer's toJSON has already run by now: {type: "Buffer", data: [...]}; catch both shapes.
  if (value instanceof Uint8Array) return { [BYTES_TAG]: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64") };
  if (isBufferJson(value)) return { [BYTES_TAG]: Buffer.from(value.data).toString("base64") };
  return value;
}

function untagBytes(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === "object" && BYTES_TAG in value) {
    const b64 = (value as Record<string, string>)[BYTES_TAG];
    return new Uint8Array(Buffer.from(b64, "base64"));
  }
  return value;
}

function isBufferJson(value: unknown): value is { type: "Buffer"; data: number[] } {
  return (
    value !== null &&
    typeof value === "object" &&
    (value as { type?: unknown }).type === "Buffer" &&
    Array.isArray((value as { data?: unknown }).data)
  );
}
