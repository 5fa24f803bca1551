/**
 * otelcol.datadog.yaml against a local stand-in for Datadog's OTLP logs intake: the app's audit
 * records arrive as gzip'd OTLP/protobuf with the `dd-api-key` header and Datadog's standard
 * attributes next to the OpenTelemetry ones; other app logs are not sent.
 */
import { gunzipSync } from "node:zlib";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLIENT_IP, USER_AGENT } from "../helpers/auth-app.js";
import { PASSWORD, createAuditedApp } from "./helpers/audited-app.js";
import { decodeLogsRequest, type DecodedRecord } from "./helpers/otlp-proto.js";
import { COLLECTOR_DIR, runScript, stackPorts, waitFor, type StackEnv } from "./helpers/stack.js";

const API_KEY = "e2e-dd-api-key-not-a-secret";

describe("collector → Datadog (OTLP logs intake)", () => {
  const requests: Array<{ path: string; headers: IncomingHttpHeaders; records: DecodedRecord[] }> = [];
  const intake = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      let body = Buffer.concat(chunks);
      if (req.headers["content-encoding"] === "gzip") body = gunzipSync(body);
      requests.push({ path: req.url ?? "", headers: req.headers, records: decodeLogsRequest(body) });
      res.writeHead(202, { "content-type": "application/x-protobuf" }).end();
    });
  });
  let env: StackEnv;

  beforeAll(async () => {
    await new Promise<void>((resolve) => intake.listen(0, "127.0.0.1", resolve));
    env = {
      RUN_DIR: `${COLLECTOR_DIR}.cache/e2e-dd-run`,
      OTELCOL_CONFIG: `${COLLECTOR_DIR}otelcol.datadog.yaml`,
      DD_API_KEY: API_KEY,
      DD_OTLP_ENDPOINT: `http://127.0.0.1:${(intake.address() as AddressInfo).port}`,
      ...(await stackPorts()),
    };
    await runScript("stop.sh", ["collector"], env).catch(() => undefined);
    await runScript("start.sh", ["collector"], env);
  });

  afterAll(async () => {
    if (env) await runScript("stop.sh", ["collector"], env).catch(() => undefined);
    await new Promise<void>((resolve) => intake.close(() => resolve()));
  });

  it("audit records arrive with dd-api-key and usr.id, evt.*, network.client.ip, http.useragent", async () => {
    const app = await createAuditedApp({ url: `http://127.0.0.1:${env.OTLP_HTTP_PORT}/v1/logs`, serviceName: "e2e-datadog" });
    const email = `dd-${Date.now()}@example.com`;
    const signUp = await app.post("/sign-up/email", { email, password: PASSWORD, name: "Dd" });
    await app.post("/sign-in/email", { email, password: "wrong-password-dd" });
    app.provider.getLogger("some-other-lib").emit({ body: "ordinary app log, not for Datadog" });
    await app.finish();
    const expected = app.emitted().filter((r) => r.instrumentationScope.name === "otel-auth-audit").length;
    const received = await waitFor("the audit records at the intake", async () => {
      const all = requests.flatMap((r) => r.records);
      return all.length >= expected ? all : undefined;
    }, 30_000);

    expect(received).toHaveLength(expected);
    for (const r of requests) {
      expect(r.path).toBe("/v1/logs");
      expect(r.headers["dd-api-key"]).toBe(API_KEY);
      expect(r.headers["content-type"]).toBe("application/x-protobuf");
    }
    expect(received.every((r) => r.scope.name === "otel-auth-audit")).toBe(true);
    expect(JSON.stringify(received, (_, v) => (typeof v === "bigint" ? String(v) : v))).not.toContain("ordinary app log");

    const signUpRecord = received.find((r) => r.attributes["audit.action"] === "sign-up:email")!;
    expect(signUpRecord.resource["service.name"]).toBe("e2e-datadog");
    expect(signUpRecord.eventName).toBe("auth.sign_up.email");
    expect(signUpRecord.attributes).toMatchObject({
      "usr.id": signUp.json.user.id,
      "user.id": signUp.json.user.id,
      "evt.name": "auth.sign_up.email",
      "evt.outcome": "success",
      "evt.category": "authentication",
      "network.client.ip": CLIENT_IP,
      "client.address": CLIENT_IP,
      "http.useragent": USER_AGENT,
      "http.response.status_code": 200,
    });
    const failed = received.find((r) => r.attributes["audit.action"] === "sign-in:email")!;
    expect(failed.severityNumber).toBe(13);
    expect(failed.attributes).toMatchObject({ "evt.name": "auth.sign_in.email", "evt.outcome": "failure", "evt.category": "authentication", "error.type": "INVALID_EMAIL_OR_PASSWORD" });
    expect(failed.attributes["usr.id"]).toBeUndefined();
    const checkpoint = received.find((r) => r.eventName === "audit.checkpoint")!;
    expect(checkpoint.attributes["evt.name"]).toBe("audit.checkpoint");
    await app.shutdown();
  });
});
