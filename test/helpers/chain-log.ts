import { JsonLogsSerializer } from "@opentelemetry/otlp-transformer";
import type { ReadableLogRecord } from "@opentelemetry/sdk-logs";
import { generateKeyPairSync } from "node:crypto";
import { IntegrityProcessor, RedactionProcessor } from "otel-auth-audit";
import { readOtlpJson, type OtlpFlatRecord } from "otel-auth-audit/verify";
import { createTestAudit } from "otel-auth-audit/testing";

export const KEY = "test-chain-key";
export const { privateKey, publicKey } = generateKeyPairSync("ed25519");

export const toOtlpJson = (records: ReadableLogRecord[]): string => new TextDecoder().decode(JsonLogsSerializer.serializeRequest(records));

/**
 * A log of `chains` closed chains (one per simulated process) with checkpoints every 5 records,
 * interleaved with ordinary app logs of another scope, as OTLP JSON and as SDK records.
 */
export async function makeLog({ chains = 3, perChain = 20, checkpointEvery = 5 } = {}): Promise<{
  sdk: ReadableLogRecord[];
  json: string;
  flat: OtlpFlatRecord[];
}> {
  const sdk: ReadableLogRecord[] = [];
  for (let c = 0; c < chains; c++) {
    const integrity = new IntegrityProcessor({ key: KEY, signingKey: privateKey, checkpointEvery, checkpointIntervalMs: 0 });
    const t = createTestAudit({ processors: [new RedactionProcessor(), integrity] });
    integrity.bind(t.provider);
    const app = t.provider.getLogger("my-app");
    for (let i = 0; i < perChain; i++) {
      await t.audit.record({
        action: i % 3 ? "sign-in:email" : "admin:ban-user",
        outcome: i % 4 ? "success" : "failure",
        userId: `user-${c}-${i}`,
        ipAddress: "203.0.113.9",
        statusCode: 200 + i,
        time: new Date(Date.UTC(2026, 10, 1, 0, c, i)),
        metadata: { rows: i, ratio: i / 3, ok: i % 2 === 0, tags: ["a", `t${i}`], nested: { deep: { password: "p", n: i } } },
      });
      if (i % 7 === 0) app.emit({ body: `app log ${i}`, attributes: { n: i } });
    }
    integrity.close();
    sdk.push(...t.exporter.getFinishedLogRecords());
  }
  const json = toOtlpJson(sdk);
  return { sdk, json, flat: readOtlpJson(json) };
}
