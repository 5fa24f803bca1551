/**
 * One example Next.js app, prepared as a user would: its sources copied out of examples/ into
 * .tmp/app/<name>, `npm ci` from its lockfile, then the packed otel-auth-audit tarball installed
 * on top (`npm install --no-save <tgz>`); `next build`, `next start`. Runs on the Node 22 of the
 * repo's `node` devDependency (process.execPath), so the machine's own node never matters.
 *
 * Caching, so a warm run costs seconds: node_modules stays while the lockfile's hash is the same
 * (`npm ci` only when it changed), the tarball is reinstalled only when its bytes changed, and
 * `.next` is reused only when every input of the build (sources, lockfile, tarball, Node) is the same.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, waitFor } from "../../e2e/helpers/stack.js";

export const REPO = fileURLToPath(new URL("../../../", import.meta.url));
/** Where failure reports, logs and screenshots go (CI keeps this folder). */
export const ARTIFACTS = join(REPO, ".tmp/artifacts");

/** What a prepared copy never takes from examples/: generated or installed. */
const GENERATED = new Set(["node_modules", ".next", ".otel-auth-audit", "next-env.d.ts", "tsconfig.tsbuildinfo"]);

/** Environment for npm and Node in an app: Node 22 first on PATH, no npm_* of the outer `npm run`. */
export function appEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.toLowerCase().startsWith("npm_")) env[k] = v;
  return { ...env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ""}`, NEXT_TELEMETRY_DISABLED: "1", ...extra };
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/** Runs a command to its end (bounded), collecting stdout and stderr together. */
export function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? appEnv(), stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c));
    child.stderr.on("data", (c: Buffer) => (output += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 300_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}

/** Runs a command and throws with its output unless it exits 0. */
export async function runOk(command: string, args: string[], options: Parameters<typeof run>[2]): Promise<string> {
  const t0 = Date.now();
  const result = await run(command, args, options);
  const took = `${Math.round((Date.now() - t0) / 100) / 10} s`;
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(" ")} failed in ${options.cwd} (${result.signal ?? `exit ${result.code}`}, ${took}):\n${result.output.slice(-8000)}`);
  }
  console.log(`app: ${[command, ...args].map((a) => relative(REPO, a) || a).join(" ")} (${took})`);
  return result.output;
}

const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");

/** The app's source files (relative paths), sorted: what a build depends on besides node_modules. */
function sourceFiles(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (GENERATED.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path, base));
    else out.push(relative(base, path));
  }
  return out;
}

export interface PreparedApp {
  name: string;
  dir: string;
  /** Runs `npx <args>` in the app (the CLI of the installed tarball, better-auth's `auth` …). */
  npx(args: string[], env?: Record<string, string>, timeoutMs?: number): Promise<RunResult>;
}

/** Copies examples/<name> to .tmp/app/<name>, installs it with the tarball, and builds it (cached). */
export async function prepareApp(name: string, tarball: string): Promise<PreparedApp> {
  const source = join(REPO, "examples", name);
  const dir = join(REPO, ".tmp/app", name);
  mkdirSync(dir, { recursive: true });
  // a fresh copy of the sources; node_modules and .next stay for the caches below
  for (const entry of readdirSync(dir)) if (entry !== "node_modules" && entry !== ".next") rmSync(join(dir, entry), { recursive: true, force: true });
  const files = sourceFiles(source);
  for (const file of files) cpSync(join(source, file), join(dir, file));

  const env = appEnv();
  const lockKey = sha256(readFileSync(join(dir, "package-lock.json")) + process.version);
  const lockStamp = join(dir, "node_modules/.lock-key");
  if (!existsSync(lockStamp) || readFileSync(lockStamp, "utf8") !== lockKey) {
    await runOk("npm", ["ci", "--no-audit", "--no-fund"], { cwd: dir, env, timeoutMs: 600_000 });
    writeFileSync(lockStamp, lockKey);
    rmSync(join(dir, "node_modules/.tarball-key"), { force: true });
  }
  const tarballKey = sha256(readFileSync(tarball));
  const tarballStamp = join(dir, "node_modules/.tarball-key");
  if (!existsSync(tarballStamp) || readFileSync(tarballStamp, "utf8") !== tarballKey) {
    await runOk("npm", ["install", "--no-save", "--no-audit", "--no-fund", tarball], { cwd: dir, env, timeoutMs: 300_000 });
    writeFileSync(tarballStamp, tarballKey);
  }

  const buildKey = sha256([process.version, tarballKey, ...files.map((f) => `${f}\0${sha256(readFileSync(join(dir, f)))}`)].join("\n"));
  const cached = existsSync(join(dir, ".next/BUILD_ID")) && existsSync(join(dir, ".next/.build-key")) && readFileSync(join(dir, ".next/.build-key"), "utf8") === buildKey;
  if (cached) console.log(`app: ${name}: .next is up to date, not rebuilt`);
  else {
    // .next/cache (Turbopack's) stays: a rebuild after a change reuses it
    await runOk(process.execPath, ["node_modules/next/dist/bin/next", "build"], { cwd: dir, env, timeoutMs: 600_000 });
    writeFileSync(join(dir, ".next/.build-key"), buildKey);
  }

  return {
    name,
    dir,
    npx: (args, extra = {}, timeoutMs = 120_000) => run("npx", ["--no", ...args], { cwd: dir, env: appEnv(extra), timeoutMs }),
  };
}

export interface NextServer {
  url: string;
  pid: number;
  /** Everything `next start` printed so far. */
  output(): string;
  /** Sends `signal` and waits (bounded) for the exit; SIGKILL after the bound. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `next start` on a free loopback port (its URL handed to `env`); resolves once it answers HTTP. */
export async function startNext(app: PreparedApp, env: (url: string) => Record<string, string>): Promise<NextServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(process.execPath, ["node_modules/next/dist/bin/next", "start", "-p", String(port), "-H", "127.0.0.1"], {
    cwd: app.dir,
    env: appEnv(env(url)),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (c: Buffer) => (output += c));
  child.stderr!.on("data", (c: Buffer) => (output += c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  let done = false;
  void exited.then(() => (done = true));
  const server: NextServer = {
    url,
    pid: child.pid!,
    output: () => output,
    async stop(signal = "SIGTERM", timeoutMs = 30_000) {
      if (!done) child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
  try {
    await waitFor(`next start on ${url}`, async () => {
      if (done) throw new Error(`next start exited:\n${output}`);
      const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
      return res.status < 500 ? true : undefined;
    }, 60_000, 250);
  } catch (error) {
    await server.stop("SIGKILL");
    throw new Error(`${(error as Error).message}\n--- next start output ---\n${output}`);
  }
  return server;
}
