/**
 * `npm run bench`: every bench/*.bench.ts in its own process, one after another; name some to run
 * only those (`npm run bench -- request verify`). The end-to-end bench needs the collector and
 * Loki and has its own script (`npm run bench:e2e`); it runs here only when named.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const dir = fileURLToPath(new URL(".", import.meta.url));
const only = process.argv.slice(2);
const scripts = readdirSync(dir)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => (only.length === 0 ? f !== "e2e.bench.ts" : only.some((o) => f.includes(o))))
  .sort();
let failed = 0;
const started = Date.now();
for (const script of scripts) {
  console.log(`\n== ${script} (${((Date.now() - started) / 1000).toFixed(0)} s into the run)`);
  const run = spawnSync(process.execPath, ["--import", "tsx", "--conditions=source", "--disable-warning=ExperimentalWarning", `${dir}${script}`], { stdio: "inherit" });
  if (run.status !== 0) failed++;
}
console.log(`\nfigures written to bench/results.json (${((Date.now() - started) / 1000).toFixed(0)} s); a figure with "noise_ok": false comes from a run whose control pair did not hold`);
process.exit(failed ? 1 : 0);
