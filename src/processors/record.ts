import type { AnyValue } from "@opentelemetry/api";
import type { ReadWriteLogRecord } from "@opentelemetry/sdk-logs";

/** The SDK's LogRecordImpl keeps its attribute count here; removing an attribute must give the slot back. */
interface RecordInternals {
  _attributesCount?: number;
}

/**
 * Removes an attribute for real. The SDK has no delete (`setAttribute(k, undefined)` is a no-op),
 * but `attributes` is a plain object that exporters read after onEmit, so deleting the key there
 * (while the record is still ours to change, inside onEmit) removes it from every export.
 */
export function deleteAttribute(record: ReadWriteLogRecord, key: string): void {
  const attrs = record.attributes as Record<string, AnyValue>;
  if (!Object.hasOwn(attrs, key)) return;
  delete attrs[key];
  const internals = record as unknown as RecordInternals;
  if (typeof internals._attributesCount === "number" && internals._attributesCount > 0) internals._attributesCount--;
}

/**
 * Writes an attribute straight into the record's attribute map: the chain's own fields, which must
 * be there whatever the SDK's limits, and which are filled in after emit returned (the record is
 * read-only to setAttribute by then, but exporters read this map later).
 */
export function writeAttribute(record: ReadWriteLogRecord, key: string, value: string | number): void {
  const attrs = record.attributes as Record<string, AnyValue>;
  if (!Object.hasOwn(attrs, key)) {
    const internals = record as unknown as RecordInternals;
    if (typeof internals._attributesCount === "number") internals._attributesCount++;
  }
  attrs[key] = value;
}
