/**
 * Every public constructor and factory, handed options of the wrong shape (an unknown key, a
 * number, a string, a list) or a bad value inside, refuses them with the one AuditOptionsError
 * naming the option: never a bare TypeError from deep inside, never silently accepted.
 */
import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import * as root from "otel-auth-audit";
import * as ba from "otel-auth-audit/better-auth";
import * as aj from "otel-auth-audit/authjs";
import * as loki from "otel-auth-audit/loki";
import * as testing from "otel-auth-audit/testing";
import * as verify from "otel-auth-audit/verify";

const CTORS: Record<string, (options: unknown) => unknown> = {
  setupAudit: (o) => root.setupAudit(o as never),
  auditProcessors: (o) => root.auditProcessors(o as never),
  createAuditLogger: (o) => root.createAuditLogger(o as never),
  AuditLogger: (o) => new root.AuditLogger(o as never),
  RedactionProcessor: (o) => new root.RedactionProcessor(o as never),
  IntegrityProcessor: (o) => new root.IntegrityProcessor(o as never),
  DurableLogRecordProcessor: (o) => new root.DurableLogRecordProcessor(o as never),
  AuthAuditInstrumentation: (o) => new root.AuthAuditInstrumentation(o as never),
  BruteForceDetector: (o) => new root.BruteForceDetector(o as never),
  auditLog: (o) => ba.auditLog(o as never),
  MemoryStorage: (o) => new ba.MemoryStorage(o as never),
  DatabaseExporter: (o) => new ba.DatabaseExporter(o as never),
  DatabaseReader: (o) => new ba.DatabaseReader(o as never),
  RetentionSweeper: (o) => new ba.RetentionSweeper(o as never),
  StorageExporter: (o) => new ba.StorageExporter(o as never),
  createStorePipeline: (o) => ba.createStorePipeline(o as never),
  withAudit: (o) => aj.withAudit({ providers: [] } as never, o as never),
  createTestAudit: (o) => testing.createTestAudit(o as never),
  LokiAuditReader: (o) => new loki.LokiAuditReader(o as never),
  verifyRecords: (o) => verify.verifyRecords([], o as never),
};
const WRONG: Array<[string, unknown]> = [
  ["an unknown key", { notAnOption: 1 }],
  ["a number", 5],
  ["a string", "options"],
  ["a list", [1]],
  ["a prototype-free object with an unknown key", Object.assign(Object.create(null), { zz: 1 })],
];

describe("every public constructor refuses wrong options with AuditOptionsError", () => {
  for (const [name, make] of Object.entries(CTORS)) {
    it(name, () => {
      for (const [label, options] of WRONG) {
        expect(() => make(options), `${name}(${label})`).toThrow(root.AuditOptionsError);
      }
    });
  }

  it("the Auth.js route wrapper and the retention helper too", async () => {
    expect(() => aj.auditHandlers({ GET: () => new Response() } as never, {} as never)).toThrow(root.AuditOptionsError);
    for (const days of [0, -5, Number.NaN, Number.POSITIVE_INFINITY, "30"]) {
      await expect(ba.deleteExpiredAuditLogs({ adapter: {} }, { days } as never), `days ${String(days)}`).rejects.toThrow(root.AuditOptionsError);
    }
    await expect(ba.deleteExpiredAuditLogs({ adapter: {} }, { days: 1, dayz: 2 } as never)).rejects.toThrow(/dayz/);
  });

  it("a signing key that is no Ed25519 private key is refused naming where it came from, without its text", () => {
    const { privateKey: rsa } = generateKeyPairSync("rsa", { modulusLength: 1024 });
    const junk = "-----BEGIN PRIVATE KEY-----\nnot-a-key-canary\n-----END PRIVATE KEY-----";
    for (const signingKey of [junk, rsa, "x"]) {
      expect(() => new root.IntegrityProcessor({ signingKey } as never)).toThrow(expect.objectContaining({ name: "AuditOptionsError", option: "signingKey" }));
    }
    expect(() => new root.IntegrityProcessor({ signingKey: junk } as never)).toThrow(expect.not.objectContaining({ message: expect.stringContaining("canary") }));
    const before = process.env.OTEL_AUTH_AUDIT_SIGNING_KEY;
    process.env.OTEL_AUTH_AUDIT_SIGNING_KEY = junk;
    try {
      expect(() => new root.IntegrityProcessor({ key: "k" })).toThrow(expect.objectContaining({ option: "OTEL_AUTH_AUDIT_SIGNING_KEY" }));
    } finally {
      if (before === undefined) delete process.env.OTEL_AUTH_AUDIT_SIGNING_KEY;
      else process.env.OTEL_AUTH_AUDIT_SIGNING_KEY = before;
    }
  });

  it("verifyRecords names the option it refuses", () => {
    for (const [options, option] of [[{ requireClosed: "yes" }, "requireClosed"], [{ scopes: "otel-auth-audit" }, "scopes"], [{ onProgress: 1 }, "onProgress"]] as const) {
      expect(() => verify.verifyRecords([], options as never)).toThrow(expect.objectContaining({ option, where: "verifyRecords" }));
    }
  });
});

describe("a chain key of blanks", () => {
  it("is refused as an option and from OTEL_AUTH_AUDIT_KEY, naming which", () => {
    const { IntegrityProcessor, AuditOptionsError } = root;
    expect(() => new IntegrityProcessor({ key: "   " })).toThrow(AuditOptionsError);
    const before = process.env.OTEL_AUTH_AUDIT_KEY;
    process.env.OTEL_AUTH_AUDIT_KEY = " \t ";
    try {
      expect(() => new IntegrityProcessor()).toThrow(/OTEL_AUTH_AUDIT_KEY/);
    } finally {
      if (before === undefined) delete process.env.OTEL_AUTH_AUDIT_KEY;
      else process.env.OTEL_AUTH_AUDIT_KEY = before;
    }
  });
});
