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

/** Input that is not OTLP JSON logs: verify refuses it rather than reporting "nothing to check". */
export class NotOtlpError extends SyntaxError {
  constructor(message: string) {
    super(message);
    this.name = "NotOtlpError";
  }
}

/**
 * Reads OTLP JSON logs: one ExportLogsServiceRequest, a JSON array of them, or JSON lines of them
 * (the collector's file exporter). Returns flat records with `resource` and `scope`. Anything else
 * (a number, a string, an object with other fields, records that are not objects) throws
 * NotOtlpError: foreign input is never read as "no records".
 */
export function readOtlpJson(text: string): OtlpFlatRecord[] {
  const trimmed = text.trim();
  if (trimmed === "") return [];
  let whole: unknown;
  let isWhole = true;
  try {
    whole = JSON.parse(trimmed);
  } catch {
    isWhole = false; // not one JSON document: JSON lines
  }
  if (isWhole) {
    const docs = Array.isArray(whole) ? whole : [whole];
    docs.forEach((doc, i) => checkRequest(doc, Array.isArray(whole) ? `element ${i + 1}` : "the document"));
    return flattenOtlp(docs as ExportLogsServiceRequestJson[]);
  }
  const out: OtlpFlatRecord[] = [];
  let lineNo = 0;
  for (const line of trimmed.split("\n")) {
    lineNo++;
    if (line.trim() === "") continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (error) {
      throw new SyntaxError(`OTLP JSON line ${lineNo} does not parse: ${(error as Error).message}`);
    }
    checkRequest(parsed, `line ${lineNo}`);
    flattenOtlp([parsed as ExportLogsServiceRequestJson], out);
  }
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** The shape of an ExportLogsServiceRequest, down to each log record being an object. */
function checkRequest(doc: unknown, where: string): void {
  const fail = (what: string) => {
    throw new NotOtlpError(`${where} is not OTLP JSON logs: ${what}`);
  };
  if (!isObject(doc)) return fail(`expected an object with resourceLogs, got ${Array.isArray(doc) ? "an array" : JSON.stringify(doc)?.slice(0, 40)}`);
  for (const key of Object.keys(doc)) if (key !== "resourceLogs") fail(`unexpected field "${key.slice(0, 40)}"`);
  const rls = doc.resourceLogs;
  if (rls === undefined) return;
  if (!Array.isArray(rls)) return fail("resourceLogs is not an array");
  for (const rl of rls) {
    if (!isObject(rl)) return fail("a resourceLogs entry is not an object");
    if (rl.scopeLogs === undefined) continue;
    if (!Array.isArray(rl.scopeLogs)) return fail("scopeLogs is not an array");
    for (const sl of rl.scopeLogs) {
      if (!isObject(sl)) return fail("a scopeLogs entry is not an object");
      if (sl.logRecords === undefined) continue;
      if (!Array.isArray(sl.logRecords) || !sl.logRecords.every(isObject)) return fail("logRecords is not an array of objects");
      for (const r of sl.logRecords as Record<string, unknown>[]) {
        if (r.attributes !== undefined && !(Array.isArray(r.attributes) && r.attributes.every((kv) => isObject(kv) && typeof kv.key === "string"))) {
          return fail("a log record's attributes are not key/value pairs");
        }
      }
    }
  }
}
