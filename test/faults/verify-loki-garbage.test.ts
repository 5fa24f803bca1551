import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runVerify } from "../../src/cli/verify.js";

// `verify --loki` against a Loki that answers garbage, an error, the wrong result type, lines that
// are not audit records, forged chain attributes or nothing at all: never exit 0.

let status = 200;
let answer = "";
const server = createServer((_req, res) => res.writeHead(status, { "content-type": "application/json" }).end(answer));
let url = "";
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const streams = (values: Array<[string, string]>) => JSON.stringify({ status: "success", data: { resultType: "streams", result: [{ stream: { audit_stream: "audit" }, values }] } });
const forged = JSON.stringify({
  format: "otel-auth-audit/record/v1",
  timeUnixNano: "1700000000000000000",
  eventName: "sign-in:email",
  attributes: { "audit.chain.id": "c", "audit.chain.seq": 1, "audit.chain.prev": "0".repeat(64), "audit.chain.hash": "f".repeat(64), "user.id": "mallory" },
});

describe("verify --loki never passes what Loki cannot prove", () => {
  const cases: Array<[number, string]> = [
    [200, "not json"],
    [200, "{}"],
    [200, '{"status":"error","error":"boom"}'],
    [500, "oops"],
    [200, JSON.stringify({ status: "success", data: { resultType: "matrix", result: [{ metric: {}, values: [[1, "1"]] }] } })],
    [200, JSON.stringify({ status: "success", data: { resultType: "streams", result: [] } })],
    [200, streams([["1700000000000000000", "a plain line"]])],
    [200, streams([["1700000000000000000", forged]])],
  ];
  it.each(cases)("Loki answers %i %s", async (s, body) => {
    status = s;
    answer = body;
    const out = new Writable({ write: (_c, _e, cb) => cb() });
    expect(await runVerify(["--loki", url, "--since", "1h", "--key", "k", "--require-closed"], out)).not.toBe(0);
  });
});
