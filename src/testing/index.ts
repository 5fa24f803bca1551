import { settleTurn } from "../end-of-turn.js";
import type { AnyValue } from "@opentelemetry/api";
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  SimpleLogRecordProcessor,
  type LogRecordProcessor,
  type ReadableLogRecord,
} from "@opentelemetry/sdk-logs";
import * as z from "zod";
import { AUDIT_ATTR, fromAttributes } from "../attributes.js";
import { auditLoggerShape } from "../option-schemas.js";
import { optionSchemas, parseOptions } from "../options.js";
import { CHECKPOINT_EVENT } from "../chain/format.js";
import { auditProcessors, bindProcessors, type AuditProcessorsOptions } from "../pipeline.js";
import { IntegrityProcessor } from "../processors/integrity.js";
import { RedactionProcessor } from "../processors/redaction.js";
import { AuditLogger, type AuditLoggerOptions } from "../emit.js";
import type { AuditEvent } from "../event.js";
import { SCOPE_NAME } from "../version.js";

/**
 * Match on event fields (`action`, `outcome`, `userId` …), `eventName`, `attributes`, or any other
 * key as an attribute name (`{ "client.address": "203.0.113.7" }`).
 */
export type RecordQuery = Partial<Omit<AuditEvent, "time" | "metadata">> & {
  eventName?: string;
  attributes?: Record<string, AnyValue>;
} & Record<string, unknown>;

export interface TestAuditOptions extends Omit<AuditLoggerOptions, "loggerProvider">, Pick<AuditProcessorsOptions, "redaction" | "integrity"> {
  /**
   * Processors placed after redaction and before the hash chain and the in-memory exporter. A
   * RedactionProcessor or IntegrityProcessor here replaces the default one of its kind.
   */
  processors?: LogRecordProcessor[];
}

const { loggerProvider: _notHere, ...loggerShape } = auditLoggerShape;
const testAuditOptionsSchema = z.strictObject({
  ...loggerShape,
  processors: z.array(optionSchemas.withMethods<LogRecordProcessor>("onEmit", "forceFlush", "shutdown")).optional(),
  redaction: z.unknown().optional(),
  integrity: z.unknown().optional(),
});

/** Records in tests are chained under a fixed key, so the pipeline is the production one without the unkeyed warning. */
const TEST_CHAIN_KEY = "otel-auth-audit-test-key";

export interface TestAudit {
  provider: LoggerProvider;
  exporter: InMemoryLogRecordExporter;
  /** An AuditLogger bound to `provider`, for manual events. */
  audit: AuditLogger;
  /** Every audit record exported so far (scope `otel-auth-audit`), oldest first; checkpoints are apart. */
  records(): ReadableLogRecord[];
  /** The hash chain's checkpoint records (`audit.checkpoint`). */
  checkpoints(): ReadableLogRecord[];
  /** The audit records decoded back into AuditEvents. */
  events(): AuditEvent[];
  /** The first record matching the query, or undefined. */
  find(query: RecordQuery): ReadableLogRecord | undefined;
  /** Every record matching the query. */
  findAll(query: RecordQuery): ReadableLogRecord[];
  flush(): Promise<void>;
  reset(): void;
  shutdown(): Promise<void>;
}

/**
 * An in-memory audit pipeline for tests: the production processors (redaction, hash chain) and the
 * SDK's own InMemoryLogRecordExporter behind a Simple processor, so records are visible as soon as
 * they are emitted:
 * `const t = createTestAudit(); betterAuth({ plugins: [auditLog({ loggerProvider: t.provider })] })`.
 */
export function createTestAudit(options: TestAuditOptions = {}): TestAudit {
  // the logger's and the pipeline's own options are checked where they are used; here, the shape
  parseOptions("createTestAudit", testAuditOptionsSchema, options);
  const { processors = [], redaction, integrity, ...loggerOptions } = options;
  const exporter = new InMemoryLogRecordExporter();
  // redaction first, the chain last before export (a processor that edits records must not follow
  // the chain); a redactor or chain of the caller's own in `processors` replaces the default one
  const own = (kind: Function) => processors.some((p) => p instanceof kind);
  const all = [
    ...auditProcessors({ redaction: own(RedactionProcessor) ? false : redaction, integrity: false }),
    ...processors,
    ...auditProcessors({
      redaction: false,
      integrity: integrity === false || own(IntegrityProcessor) ? false : { key: TEST_CHAIN_KEY, checkpointIntervalMs: 0, ...integrity },
    }),
  ];
  const provider = new LoggerProvider({ processors: [...all, new SimpleLogRecordProcessor({ exporter })] });
  bindProcessors(all, provider);
  const audit = new AuditLogger({ ...loggerOptions, loggerProvider: provider });
  const ours = () => (settleTurn(), exporter.getFinishedLogRecords()).filter((r) => r.instrumentationScope.name === SCOPE_NAME);
  const records = () => ours().filter((r) => r.eventName !== CHECKPOINT_EVENT);
  const findAll = (query: RecordQuery) => records().filter((r) => matches(r, query));
  return {
    provider,
    exporter,
    audit,
    records,
    checkpoints: () => ours().filter((r) => r.eventName === CHECKPOINT_EVENT),
    events: () => records().map(eventOf),
    find: (query) => findAll(query)[0],
    findAll,
    flush: () => provider.forceFlush(),
    reset: () => exporter.reset(),
    shutdown: () => provider.shutdown(),
  };
}

/** Decodes a record into the AuditEvent it carries. */
export function eventOf(record: ReadableLogRecord): AuditEvent {
  const [seconds, nanos] = record.hrTime;
  return fromAttributes(record.attributes, new Date(seconds * 1000 + nanos / 1e6));
}

const FIELD_ATTRIBUTE: Partial<Record<keyof RecordQuery, string>> = {
  action: AUDIT_ATTR.action,
  outcome: AUDIT_ATTR.outcome,
  severity: AUDIT_ATTR.severity,
  id: AUDIT_ATTR.id,
  userId: AUDIT_ATTR.userId,
  userHash: AUDIT_ATTR.userHash,
  sessionId: AUDIT_ATTR.sessionId,
  actorId: AUDIT_ATTR.actorId,
  ipAddress: AUDIT_ATTR.clientAddress,
  userAgent: AUDIT_ATTR.userAgent,
  method: AUDIT_ATTR.httpMethod,
  path: AUDIT_ATTR.urlPath,
  statusCode: AUDIT_ATTR.httpStatusCode,
  error: AUDIT_ATTR.errorType,
};

function matches(record: ReadableLogRecord, query: RecordQuery): boolean {
  for (const [key, expected] of Object.entries(query)) {
    if (key === "eventName") {
      if (record.eventName !== expected) return false;
    } else if (key === "attributes") {
      for (const [name, value] of Object.entries(expected as Record<string, AnyValue>)) {
        if (record.attributes[name] !== value) return false;
      }
    } else {
      // a key that is no event field is an attribute name
      const name = FIELD_ATTRIBUTE[key as keyof RecordQuery] ?? key;
      const actual = record.attributes[name];
      // userId: null asks for "no subject"
      if (expected === null ? actual !== undefined : actual !== expected) return false;
    }
  }
  return true;
}
