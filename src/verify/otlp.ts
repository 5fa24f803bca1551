import type { OtlpKeyValue, OtlpLogRecord } from "../chain/canonical.js";

/** One log record of an OTLP JSON export, with the resource and scope it was sent under. */
export interface OtlpFlatRecord extends OtlpLogRecord {
  resource?: { attributes?: OtlpKeyValue[] };
  scope?: { name?: string; version?: string; attributes?: OtlpKeyValue[] };
}

/** The OTLP/JSON `ExportLogsServiceRequest` (also the collector file exporter's line format). */
export interface ExportLogsServiceRequestJson {
  resourceLogs?: Array<{
    resource?: { attributes?: OtlpKeyValue[] };
    scopeLogs?: Array<{
      scope?: { name?: string; version?: string; attributes?: OtlpKeyValue[] };
      logRecords?: OtlpLogRecord[];
    }>;
  }>;
}

/** Flattens parsed requests into records that carry their resource and scope. */
export function flattenOtlp(requests: Iterable<ExportLogsServiceRequestJson>, into: OtlpFlatRecord[] = []): OtlpFlatRecord[] {
  for (const request of requests) {
    for (const rl of request.resourceLogs ?? []) {
      for (const sl of rl.scopeLogs ?? []) {
        for (const record of sl.logRecords ?? []) {
          const flat = record as OtlpFlatRecord;
          flat.resource = rl.resource;
          flat.scope = sl.scope;
          into.push(flat);
        }
      }
    }
  }
  return into;
}

/**
 * Reads OTLP JSON logs: one ExportLogsServiceRequest, a JSON array of them, or JSON lines of them
 * (the collector's file exporter). Returns flat records with `resource` and `scope`.
 */
export function readOtlpJson(text: string): OtlpFlatRecord[] {
  const trimmed = text.trim();
  if (trimmed === "") return [];
  try {
    const whole = JSON.parse(trimmed) as ExportLogsServiceRequestJson | ExportLogsServiceRequestJson[];
    return flattenOtlp(Array.isArray(whole) ? whole : [whole]);
  } catch {
    // not one JSON document: JSON lines
  }
  const out: OtlpFlatRecord[] = [];
  let lineNo = 0;
  for (const line of trimmed.split("\n")) {
    lineNo++;
    if (line.trim() === "") continue;
    let parsed: ExportLogsServiceRequestJson;
    try {
      parsed = JSON.parse(line);
    } catch (error) {
      throw new SyntaxError(`OTLP JSON line ${lineNo} does not parse: ${(error as Error).message}`);
    }
    flattenOtlp([parsed], out);
  }
  return out;
}
