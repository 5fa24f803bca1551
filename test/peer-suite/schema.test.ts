// @ts-nocheck -- ported from better-auth-audit-logs 0.3.0 (tests/schema.test.ts): its types, not ours
// Imports and glue only; assertions untouched. Skips name a line of the migration table in docs/store.md.
import { describe, test, expect } from "vitest";
import { buildSchema } from "./glue.js";

describe("validateSchema", () => {
  // skipped: migration table, "buildSchema / validateSchema": internal helpers with no counterpart; the schema option is validated at construction
  test.skip("accepts valid default schema", () => {
    const schema = buildSchema();
    expect(() => validateSchema(schema)).not.toThrow();
  });

  // skipped: migration table, "buildSchema / validateSchema": internal helpers with no counterpart; the schema option is validated at construction
  test.skip("accepts schema with custom model name", () => {
    const schema = buildSchema({ schema: { auditLog: { modelName: "events" } } });
    expect(() => validateSchema(schema)).not.toThrow();
  });

  // skipped: migration table, "buildSchema / validateSchema": internal helpers with no counterpart; the schema option is validated at construction
  test.skip("throws if critical field is missing", () => {
    const schema = buildSchema();
    // Deep clone to avoid mutating shared baseSchema
    const cloned = {
      ...schema,
      auditLog: {
        ...schema.auditLog,
        fields: { ...schema.auditLog.fields },
      },
    };
    delete (cloned.auditLog.fields as Record<string, unknown>)["action"];
    expect(() => validateSchema(cloned)).toThrow("missing critical field: action");
  });

  // skipped: migration table, "buildSchema / validateSchema": internal helpers with no counterpart; the schema option is validated at construction
  test.skip("throws if fields object is missing", () => {
    const schema = buildSchema();
    const cloned = {
      ...schema,
      auditLog: { ...schema.auditLog, fields: undefined },
    };
    expect(() => validateSchema(cloned as any)).toThrow("must have fields");
  });
});
