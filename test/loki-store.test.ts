/** The Loki client against a fake query_range (no Loki needed): paging and record rebuilding. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canonicalFromOtlp } from "../src/chain/canonical.js";
import { LOKI_RECORD_FORMAT, queryRange, recordFromLokiEntry, type LokiEntry } from "../src/store/loki.js";

/** 30 entries over 12 timestamps (runs of equal timestamps, some with equal lines). */
const ENTRIES: Array<[string, string, Record<string, string>]> = Array.from({ length: 30 }, (_, i) => [
  String(1_700_000_000_000_000_000n + BigInt(Math.floor(i / 2.5))),
  i % 3 === 0 ? "same line" : `line ${i}`,
  { audit_id: `id-${i}` },
]);

describe("Loki client (fake Loki)", () => {
  let server: Server;
  let url: string;
  const requests: URLSearchParams[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      const q = new URL(req.url!, "http://x").searchParams;
      requests.push(q);
      const start = BigInt(q.get("start")!);
      const end = BigInt(q.get("end")!);
      const forward = q.get("direction") === "forward";
      const inRange = ENTRIES.filter(([ts]) => BigInt(ts) >= start && BigInt(ts) < end);
      const page = (forward ? inRange : [...inRange].reverse()).slice(0, Number(q.get("limit")));
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({
        status: "success",
        data: { resultType: "streams", result: [{ stream: { service_name: "app" }, values: page.map(([ts, line, sm]) => [ts, line, { structuredMetadata: sm }]) }] },
      }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  for (const direction of ["forward", "backward"] as const) {
    it(`reads every entry exactly once across pages (${direction}, entries sharing timestamps and lines)`, async () => {
      const got: LokiEntry[] = [];
      for await (const page of queryRange({ url }, { query: "{x}", start: 0n, end: 2_000_000_000_000_000_000n, direction, pageSize: 4 })) got.push(...page);
      const ids = got.map((e) => e.metadata.audit_id);
      expect(new Set(ids).size).toBe(ENTRIES.length);
      expect(ids).toHaveLength(ENTRIES.length);
      const ts = got.map((e) => BigInt(e.ts));
      expect(ts).toEqual([...ts].sort((a, b) => (direction === "forward" ? (a < b ? -1 : a > b ? 1 : 0) : a < b ? 1 : a > b ? -1 : 0)));
    });
  }

  it("passes the LogQL query and the page size", () => {
    expect(requests[0].get("query")).toBe("{x}");
    expect(requests[0].get("limit")).toBe("4");
  });
});

describe("recordFromLokiEntry", () => {
  const original = {
    timeUnixNano: "1700000000123456789",
    eventName: "auth.sign_in.email",
    severityNumber: 13,
    severityText: "WARN",
    body: { stringValue: "sign-in:email failure" },
    attributes: [
      { key: "audit.action", value: { stringValue: "sign-in:email" } },
      { key: "audit.chain.seq", value: { intValue: 7 } },
      { key: "http.response.status_code", value: { intValue: "401" } },
      { key: "audit.metadata.ratio", value: { doubleValue: 0.25 } },
      { key: "audit.metadata.flag", value: { boolValue: true } },
      { key: "audit.metadata.list", value: { arrayValue: { values: [{ stringValue: "a" }, { intValue: 3 }] } } },
    ],
  };

  it("gives back the record from the collector's JSON line: same canonical form", () => {
    const line = JSON.stringify({
      format: LOKI_RECORD_FORMAT,
      timeUnixNano: original.timeUnixNano,
      eventName: original.eventName,
      severityNumber: 13,
      severityText: "WARN",
      body: "sign-in:email failure",
      attributes: { "audit.action": "sign-in:email", "audit.chain.seq": 7, "http.response.status_code": 401, "audit.metadata.ratio": 0.25, "audit.metadata.flag": true, "audit.metadata.list": ["a", 3] },
    });
    const record = recordFromLokiEntry({ ts: original.timeUnixNano, line, labels: { service_name: "app" }, metadata: { scope_name: "otel-auth-audit", audit_chain_seq: "7" } });
    expect(canonicalFromOtlp(record, "audit.chain.hash")).toBe(canonicalFromOtlp(original, "audit.chain.hash"));
    expect(record.scope?.name).toBe("otel-auth-audit");
    expect(record.resource?.attributes).toEqual([{ key: "service_name", value: { stringValue: "app" } }]);
  });

  it("rebuilds known attributes from structured metadata when the line is not a record", () => {
    const record = recordFromLokiEntry({
      ts: "1700000000123456789",
      line: "sign-in:email failure",
      labels: {},
      metadata: { audit_action: "sign-in:email", audit_chain_seq: "7", http_response_status_code: "401", user_agent_original: "ua", audit_metadata_rows: "5", event_name: "auth.sign_in.email", severity_number: "13", detected_level: "warn", telemetry_sdk_name: "opentelemetry" },
    });
    expect(record.eventName).toBe("auth.sign_in.email");
    expect(record.severityNumber).toBe(13);
    expect(record.body).toEqual({ stringValue: "sign-in:email failure" });
    expect(Object.fromEntries(record.attributes!.map((kv) => [kv.key, kv.value]))).toEqual({
      "audit.action": { stringValue: "sign-in:email" },
      "audit.chain.seq": { intValue: "7" },
      "http.response.status_code": { intValue: "401" },
      "user_agent.original": { stringValue: "ua" },
      "audit.metadata.rows": { stringValue: "5" },
    });
  });

  it("reads a hostile line nested 20,000 levels deep without overflowing the stack", () => {
    let deep = '"x"';
    for (let i = 0; i < 20_000; i++) deep = `{"a":${deep}}`;
    const line = `{"format":${JSON.stringify(LOKI_RECORD_FORMAT)},"timeUnixNano":"1","body":${deep},"attributes":{"audit.metadata.deep":${deep}}}`;
    const record = recordFromLokiEntry({ ts: "1", line, labels: {}, metadata: {} });
    expect(JSON.stringify(record)).toContain("[too deep]");
  });
});
