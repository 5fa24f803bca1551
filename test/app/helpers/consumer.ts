/**
 * A fresh consumer project in <os tmpdir>/otel-auth-audit-apps/<name> — outside this repository, so
 * nothing resolves from the repository's own node_modules (Node looks up parent directories) —: a
 * package.json, then the packed tarball
 * (OTEL_AUTH_AUDIT_TARBALL, from the global setup) and the app's other dependencies installed by
 * `npm install`, as a user would. Everything runs on the Node 22 of this run (process.execPath).
 */
import { execFile, spawn, type SpawnOptions } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

export const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { devDependencies: Record<string, string> };

/** The version this repository tests with, for a dependency of a consumer app: `better-auth@^1.7.25`. */
export const dev = (name: string): string => `${name}@${pkg.devDependencies[name]}`;

export function tarball(): string {
  const path = process.env.OTEL_AUTH_AUDIT_TARBALL;
  if (!path) throw new Error("OTEL_AUTH_AUDIT_TARBALL is not set: run through `npm run test:app` (its global setup packs the package)");
  return path;
}

/** npm and node of this run first on PATH; none of the outer `npm run`'s npm_* variables. */
export function consumerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.toLowerCase().startsWith("npm_")) env[k] = v;
  return { ...env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ""}`, ...extra };
}

const execFileP = promisify(execFile);

/**
 * Creates the app's directory anew and installs the tarball plus `dependencies` (npm specs). `type`
 * is the package.json `type` of the app.
 */
export async function createConsumer(name: string, dependencies: string[], type: "module" | "commonjs" = "module"): Promise<string> {
  const dir = join(tmpdir(), "otel-auth-audit-apps", name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), `${JSON.stringify({ name, private: true, type }, null, 2)}\n`);
  // optional peers (next for next-auth's types) stay out, as in an app that does not use them
  writeFileSync(join(dir, ".npmrc"), "legacy-peer-deps=true\n");
  await execFileP("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", tarball(), ...dependencies], {
    cwd: dir,
    env: consumerEnv(),
    timeout: 300_000,
    maxBuffer: 16 * 2 ** 20,
  });
  return dir;
}

export interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command to its end, bounded by `timeoutMs` (then SIGKILL), collecting its output. */
export function run(command: string, args: string[], options: SpawnOptions & { timeoutMs?: number } = {}): Promise<Ran> {
  const { timeoutMs = 120_000, ...spawnOptions } = options;
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(command, args, { env: consumerEnv(), ...spawnOptions, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (c: Buffer) => (stdout += c));
    child.stderr?.on("data", (c: Buffer) => (stderr += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

/** Node (this run's) on a script or `-e` code, in `cwd`. */
export const node = (args: string[], options: SpawnOptions & { timeoutMs?: number } = {}) => run(process.execPath, args, options);
