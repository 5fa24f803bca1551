/**
 * A real better-auth app → setupAudit (redaction, integrity chain, batch, OTLP/HTTP) → our
 * collector (otelcol.loki.yaml) → Loki; then read back with LogQL, verify the chain from Loki,
 * and list events through LokiAuditReader.
 */
import { spawnSync } from "node:child_process";
import type { ReadableLogRecord } from "@opentelemetry/sdk-logs";
import { beforeAll, afterAll, describe, expect, inject, it } from "vitest";
import { LokiAuditReader } from "otel-auth-audit/loki";
import { verifyRecords } from "otel-auth-audit/verify";
import { lokiSource } from "../../src/cli/sources.js";
import { nowNanos, type LokiEntry } from "../../src/store/loki.js";
import { CLIENT_IP, USER_AGENT } from "../helpers/auth-app.js";
import { CHAIN_KEY, PASSWORD, createAuditedApp } from "./helpers/audited-app.js";
import { lineOf, lokiEntries, waitForEntries } from "./helpers/loki.js";
import { lokiUrl, otlpLogsUrl } from "./helpers/stack.js";

const stack = inject("stack");
const loki = lokiUrl(stack);
const run = `${Date.now().toString(36)}${process.pid}`;
const service = `e2e-loki-${run}`;
const selector = `{audit_stream="audit", service_name="${service}"}`;
const WRONG = `wrong-password-canary-${run}`;

/** JSON-comparable attributes of an emitted record (numbers, strings, booleans, arrays). */
const plain = (r: ReadableLogRecord) => JSON.parse(JSON.stringify(r.attributes));

describe("better-auth → collector → Loki", () => {
  let app: Awaited<ReturnType<typeof createAuditedApp>>;
  let emitted: ReadableLogRecord[];
  let entries: LokiEntry[];
  let userId: string;

  beforeAll(async () => {
    app = await createAuditedApp({ url: otlpLogsUrl(stack), serviceName: service });
    const email = `ada-${run}@example.com`;
    const signUp = await app.post("/sign-up/email", { email, password: PASSWORD, name: "Ada" });
    expect(signUp.status).toBe(200);
    userId = signUp.json.user.id;
    expect((await app.post("/sign-in/email", { email, password: WRONG })).status).toBe(401);
    const signIn = await app.post("/sign-in/email", { email, password: PASSWORD });
    expect(signIn.status).toBe(200);
    const changed = await app.post("/change-password", { currentPassword: PASSWORD, newPassword: `${PASSWORD}-2`, revokeOtherSessions: false }, signIn.cookie);
    expect(changed.status).toBe(200);
    expect((await app.post("/request-password-reset", { email, redirectTo: "/reset" })).status).toBe(200);
    expect((await app.post("/reset-password", { newPassword: `${PASSWORD}-3`, token: app.outbox.resetToken })).status).toBe(200);
    expect((await app.post("/sign-out", {}, signIn.cookie)).status).toBe(200);
    const again = await app.post("/sign-in/email", { email, password: `${PASSWORD}-3` });
    await app.audit.record({ action: "admin:user-export", outcome: "success", userId, metadata: { rows: 500, format: "csv" } });
    expect((await app.post("/delete-user", { password: `${PASSWORD}-3` }, again.cookie)).status).toBe(200);
    await app.finish();
    emitted = app.emitted();
    entries = await waitForEntries(loki, selector, emitted.length);
  });

  afterAll(async () => {
    await app?.shutdown();
  });

  it("every record arrives once, with its attributes as structured metadata and intact in the line", () => {
    const actions = emitted.map((r) => r.attributes["audit.action"]).filter(Boolean);
    expect(actions).toEqual(
      expect.arrayContaining(["sign-up:email", "sign-in:email", "change-password", "request-password-reset", "reset-password", "sign-out", "admin:user-export", "delete-user"]),
    );
    expect(entries).toHaveLength(emitted.length);
    const bySeq = new Map(entries.map((e) => [Number(e.metadata.audit_chain_seq), e]));
    for (const record of emitted) {
      const entry = bySeq.get(record.attributes["audit.chain.seq"] as number);
      expect(entry, `seq ${record.attributes["audit.chain.seq"]}`).toBeDefined();
      expect(entry!.labels).toMatchObject({ audit_stream: "audit", service_name: service });
      const m = entry!.metadata;
      expect(m.event_name).toBe(record.eventName);
      expect(m.scope_name).toBe("otel-auth-audit");
      expect(m.severity_number).toBe(String(record.severityNumber));
      if (record.eventName !== "audit.checkpoint") {
        expect(m).toMatchObject({
          audit_action: record.attributes["audit.action"],
          audit_outcome: record.attributes["audit.outcome"],
          audit_severity: record.attributes["audit.severity"],
          audit_id: record.attributes["audit.id"],
        });
        if (record.attributes["user.id"]) expect(m.user_id).toBe(record.attributes["user.id"]);
      }
      // the line is the record as the app sent it: original names, JSON types
      const line = lineOf(entry!);
      expect(line.attributes).toEqual(plain(record));
      expect(line.eventName).toBe(record.eventName);
    }
    const failed = entries.find((e) => e.metadata.audit_action === "sign-in:email" && e.metadata.audit_outcome === "failure")!;
    expect(failed.metadata).toMatchObject({
      audit_severity: "high",
      error_type: "INVALID_EMAIL_OR_PASSWORD",
      client_address: CLIENT_IP,
      user_agent_original: USER_AGENT,
      http_response_status_code: "401",
      detected_level: "warn",
    });
    expect(failed.metadata.user_id).toBeUndefined();
    const signUp = entries.find((e) => e.metadata.audit_action === "sign-up:email")!;
    expect(signUp.metadata).toMatchObject({ user_id: userId, audit_outcome: "success", audit_severity: "medium", event_name: "auth.sign_up.email" });
    expect(entries.find((e) => e.metadata.audit_action === "sign-out")!.metadata.user_id).toBe(userId);
    expect(entries.find((e) => e.metadata.audit_action === "admin:user-export")!.metadata).toMatchObject({ audit_metadata_rows: "500", audit_metadata_format: "csv" });
    expect(JSON.stringify(entries)).not.toContain(WRONG);
  });

  it("LogQL filters on the structured metadata", async () => {
    const failures = await lokiEntries(loki, `${selector} | event_name="auth.sign_in.email" | audit_outcome="failure"`);
    expect(failures).toHaveLength(1);
    const mine = await lokiEntries(loki, `${selector} | user_id="${userId}" | audit_severity=~"medium|high|critical"`);
    expect(new Set(mine.map((e) => e.metadata.audit_action))).toEqual(new Set(["sign-up:email", "sign-in:email", "sign-out", "delete-user"]));
    // the line is JSON: LogQL's json parser reaches the original attributes too
    const parsed = await lokiEntries(loki, `${selector} | json | attributes_audit_metadata_rows > 100`);
    expect(parsed.map((e) => e.metadata.audit_action)).toEqual(["admin:user-export"]);
  });

  it("verify passes on what Loki returns (library and CLI), and fails with the wrong key or a record left out", async () => {
    const end = nowNanos() + 1n;
    const records = await lokiSource({ url: loki, query: selector, start: end - 3_600_000_000_000n, end }).read();
    expect(records).toHaveLength(emitted.length);
    const result = verifyRecords(records, { key: CHAIN_KEY, requireClosed: true });
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.chains).toEqual([expect.objectContaining({ id: app.integrity.chainId, size: emitted.length, closed: true, ok: true })]);

    const cli = (...args: string[]) =>
      spawnSync(process.execPath, ["--import", "tsx", "src/cli/index.ts", "verify", "--loki", loki, "--since", "1h", ...args], {
        encoding: "utf8",
        env: { ...process.env, OTEL_AUTH_AUDIT_KEY: "" },
        timeout: 60_000,
      });
    const ok = cli("--query", selector, "--key", CHAIN_KEY, "--require-closed");
    expect(ok.stderr).toBe("");
    expect(ok.stdout).toContain(`OK   chain ${app.integrity.chainId}: ${emitted.length} records`);
    expect(ok.status).toBe(0);
    const wrongKey = cli("--query", selector, "--key", "not-the-key");
    expect(wrongKey.status).toBe(1);
    expect(wrongKey.stdout).toContain("altered");
    const cut = cli("--query", `${selector} | audit_action!="sign-out"`, "--key", CHAIN_KEY);
    expect(cut.status).toBe(1);
    expect(cut.stdout).toMatch(/gap at \d+: record \d+ is missing/);
  });

  it("LokiAuditReader lists, filters, pages and gets events", async () => {
    const reader = new LokiAuditReader({ url: loki, selector });
    const events = emitted.filter((r) => r.attributes["audit.action"]);
    const all = await reader.list({ limit: 100 });
    expect(all.total).toBe(events.length);
    expect(all.entries.map((e) => e.id)).toEqual(events.map((r) => r.attributes["audit.id"]).reverse());
    const first = all.entries.at(-1)!;
    expect(first).toMatchObject({ action: "sign-up:email", outcome: "success", severity: "medium", userId, ipAddress: CLIENT_IP, userAgent: USER_AGENT, statusCode: 200 });

    const failures = await reader.list({ outcome: "failure" });
    expect(failures.total).toBe(1);
    expect(failures.entries[0]).toMatchObject({ action: "sign-in:email", error: "INVALID_EMAIL_OR_PASSWORD", userId: null, severity: "high" });
    // two successful sign-ins of this user, one page each
    const newest = await reader.list({ userId, action: "sign-in:email", limit: 1 });
    const older = await reader.list({ userId, action: "sign-in:email", limit: 1, offset: 1 });
    expect([newest.total, older.total]).toEqual([2, 2]);
    expect(newest.entries[0].createdAt.getTime()).toBeGreaterThan(older.entries[0].createdAt.getTime());
    const second = await reader.list({ limit: 2, offset: 2 });
    expect(second.entries.map((e) => e.id)).toEqual(all.entries.slice(2, 4).map((e) => e.id));
    expect((await reader.list({ severity: "critical" })).total).toBe(0);
    expect((await reader.list({ from: new Date(Date.now() + 60_000) })).total).toBe(0);

    const exported = await reader.get(all.entries.find((e) => e.action === "admin:user-export")!.id);
    expect(exported).toMatchObject({ action: "admin:user-export", userId, metadata: { rows: 500, format: "csv" } });
    expect(await reader.get("0190a6b2-0000-7000-8000-000000000000")).toBeNull();
  });
});

describe("redaction at the wire", () => {
  it("secrets in captured request bodies never reach Loki", async () => {
    const canaryService = `e2e-canary-${run}`;
    const app = await createAuditedApp({ url: otlpLogsUrl(stack), serviceName: canaryService, capture: { requestBody: true } });
    const canary = {
      password: `pw-CANARY1-${run}`,
      email: `canary2-${run}@example.com`,
      bearer: `Bearer CANARY3${run}abcdefghijklmnop`,
      jwt: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJDQU5BUlk0In0.c2lnbmF0dXJlQ0FOQVJZNA",
    };
    await app.post("/sign-up/email", { email: `safe-${run}@example.com`, password: canary.password, name: "Canary", callbackURL: "/welcome" });
    await app.post("/sign-in/email", { email: canary.email, password: canary.password, rememberMe: true, callbackURL: canary.bearer });
    await app.post("/request-password-reset", { email: canary.email, redirectTo: `/reset?t=${canary.jwt}` });
    await app.finish();
    const sel = `{audit_stream="audit", service_name="${canaryService}"}`;
    const all = await waitForEntries(loki, sel, app.emitted().length);
    // the body was captured (so the test is not vacuous) …
    expect(all.some((e) => e.metadata["audit_metadata_requestBody_rememberMe"] === "true")).toBe(true);
    // … and no secret is anywhere: not in lines, not in structured metadata
    for (const secret of [canary.password, `canary2-${run}`, `CANARY3${run}`, "CANARY4", canary.jwt]) {
      expect(await lokiEntries(loki, `${sel} |= ${JSON.stringify(secret)}`)).toHaveLength(0);
      expect(JSON.stringify(all)).not.toContain(secret);
    }
    await app.shutdown();
  });
});
