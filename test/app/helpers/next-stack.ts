/**
 * Our collector (otelcol.loki.yaml) and Loki for one app test file, on free loopback ports, by
 * collector/scripts/start.sh; stopped by stop.sh (the PIDs start.sh wrote). The binaries must be
 * built (collector/scripts/build.sh; .ci/run does it before this stage).
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "./next-app.js";
import { COLLECTOR_DIR, lokiUrl, runScript, stackPorts, waitFor, type StackEnv } from "../../e2e/helpers/stack.js";

export interface AppStack {
  env: StackEnv;
  loki: string;
  /** OTEL_EXPORTER_OTLP_ENDPOINT for the app (the exporter appends /v1/logs). */
  otlpEndpoint: string;
  /** The last lines of the collector's and Loki's logs, for failure reports. */
  logs(): string;
  stop(): Promise<void>;
}

export async function startAppStack(name: string): Promise<AppStack> {
  const bins = ["bin/otelcol-auth-audit", "bin/loki"].map((b) => COLLECTOR_DIR + b);
  const missing = bins.filter((b) => !existsSync(b));
  if (missing.length) throw new Error(`missing ${missing.join(", ")}: run collector/scripts/build.sh first`);
  // the run directory stays out of collector/, which the package ships
  const env: StackEnv = { RUN_DIR: join(REPO, ".tmp/app", `stack-${name}`), OTELCOL_CONFIG: `${COLLECTOR_DIR}otelcol.loki.yaml`, ...(await stackPorts()) };
  await runScript("stop.sh", ["all"], env).catch(() => undefined); // only the PIDs an interrupted run recorded
  rmSync(env.RUN_DIR, { recursive: true, force: true });
  const stop = async () => void (await runScript("stop.sh", ["all"], env).catch((e: Error) => console.error(e.message)));
  try {
    await runScript("start.sh", ["all"], env);
  } catch (error) {
    await stop();
    throw error;
  }
  const tail = (file: string) => (existsSync(file) ? readFileSync(file, "utf8").split("\n").slice(-40).join("\n") : "(none)");
  return {
    env,
    loki: lokiUrl(env),
    otlpEndpoint: `http://127.0.0.1:${env.OTLP_HTTP_PORT}`,
    logs: () => `--- collector log ---\n${tail(join(env.RUN_DIR, "otelcol.log"))}\n--- loki log ---\n${tail(join(env.RUN_DIR, "loki.log"))}`,
    stop,
  };
}

/** One Loki log line: the record as JSON, which the collector writes (see collector/README.md). */
export interface LokiRecord {
  attributes: Record<string, unknown>;
  eventName?: string;
  [key: string]: unknown;
}

/**
 * Every record a LogQL selector matches over the last hour (one query_range page: tests stay small),
 * in hash-chain order.
 */
export async function lokiRecords(loki: string, query: string): Promise<LokiRecord[]> {
  const end = BigInt(Date.now()) * 1_000_000n;
  const params = new URLSearchParams({ query, start: String(end - 3_600_000_000_000n), end: String(end + 1_000_000_000n), limit: "5000", direction: "forward" });
  const res = await fetch(`${loki}/loki/api/v1/query_range?${params}`, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`Loki query_range ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as { data: { result: { values: [string, string][] }[] } };
  const records = body.data.result.flatMap((stream) => stream.values.map(([, line]) => JSON.parse(line) as LokiRecord));
  // chain order: Loki orders within a stream only
  const seq = (r: LokiRecord) => Number(r.attributes["audit.chain.seq"] ?? 0);
  return records.sort((a, b) => String(a.attributes["audit.chain.id"]).localeCompare(String(b.attributes["audit.chain.id"])) || seq(a) - seq(b));
}

/** Polls Loki until `done(records)` holds (bounded); returns the records, or throws with what it last saw. */
export async function waitForLoki(loki: string, query: string, done: (records: LokiRecord[]) => boolean, timeoutMs = 60_000): Promise<LokiRecord[]> {
  let last: LokiRecord[] = [];
  try {
    return await waitFor(`Loki records for ${query}`, async () => {
      last = await lokiRecords(loki, query);
      return done(last) ? last : undefined;
    }, timeoutMs, 1000);
  } catch (error) {
    const seen = last.map((r) => `${r.attributes["audit.action"] ?? r.eventName} ${r.attributes["audit.outcome"] ?? ""}`).join(", ");
    throw new Error(`${(error as Error).message}; last seen ${last.length}: ${seen}`);
  }
}
