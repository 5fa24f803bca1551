import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));

/**
 * Packs the package once (`npm pack`, which builds dist/ through `prepare`) and hands the tarball's
 * path to every app test as OTEL_AUTH_AUDIT_TARBALL.
 */
export default function setup(): void {
  const out = join(root, ".tmp/app/pack");
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  execFileSync("npm", ["pack", "--pack-destination", out], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
  const [tarball] = readdirSync(out).filter((f) => f.endsWith(".tgz"));
  if (!tarball) throw new Error(`npm pack wrote no tarball into ${out}`);
  process.env.OTEL_AUTH_AUDIT_TARBALL = join(out, tarball);
}
