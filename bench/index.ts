/** `npm run bench`: every bench/*.bench.ts in its own process, one after another. */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const dir = fileURLToPath(new URL(".", import.meta.url));
const only = process.argv.slice(2);
const scripts = readdirSync(dir)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
let failed = 0;
for (const script of scripts) {
  console.log(`\n== ${script}`);
  const run = spawnSync(process.execPath, ["--import", "tsx", "--conditions=otel-auth-audit:source", "--disable-warning=ExperimentalWarning", `${dir}${script}`], { stdio: "inherit" });
  if (run.status !== 0) failed++;
}
console.log(`\nfigures written to bench/results.json`);
process.exit(failed ? 1 : 0);
