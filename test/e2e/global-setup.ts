/**
 * Starts one Loki and one collector (otelcol.loki.yaml) on free loopback ports for the e2e suite,
 * with collector/scripts/start.sh, and stops exactly those processes afterwards (stop.sh, by the
 * PIDs start.sh wrote). Builds the binaries first when they are missing (E2E_BUILD=0: fail instead).
 */
import { existsSync, rmSync } from "node:fs";
import type { TestProject } from "vitest/node";
import { COLLECTOR_DIR, runScript, stackPorts, type StackEnv } from "./helpers/stack.js";

declare module "vitest" {
  export interface ProvidedContext {
    stack: StackEnv;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const bins = ["bin/otelcol-auth-audit", "bin/loki"].map((b) => COLLECTOR_DIR + b);
  if (!bins.every((b) => existsSync(b))) {
    if (process.env.E2E_BUILD === "0") throw new Error(`e2e: ${bins.join(", ")} missing; run collector/scripts/build.sh`);
    const t0 = Date.now();
    console.log("e2e: building the collector and Loki (collector/scripts/build.sh) …");
    await runScript("build.sh", [], {}, 30 * 60_000);
    console.log(`e2e: built in ${Math.round((Date.now() - t0) / 1000)} s`);
  }
  const stack: StackEnv = {
    RUN_DIR: `${COLLECTOR_DIR}.cache/e2e-run`,
    OTELCOL_CONFIG: `${COLLECTOR_DIR}otelcol.loki.yaml`,
    ...(await stackPorts()),
  };
  // whatever an interrupted earlier run left behind: only the PIDs it recorded
  await runScript("stop.sh", ["all"], stack).catch(() => undefined);
  rmSync(stack.RUN_DIR, { recursive: true, force: true });
  const t0 = Date.now();
  try {
    await runScript("start.sh", ["all"], stack);
  } catch (error) {
    await runScript("stop.sh", ["all"], stack).catch(() => undefined);
    throw error;
  }
  console.log(`e2e: Loki on 127.0.0.1:${stack.LOKI_PORT}, collector OTLP/HTTP on 127.0.0.1:${stack.OTLP_HTTP_PORT} (ready in ${Math.round((Date.now() - t0) / 1000)} s)`);
  project.provide("stack", stack);
  return async () => {
    console.log((await runScript("stop.sh", ["all"], stack).catch((e: Error) => e.message)).trim());
  };
}
