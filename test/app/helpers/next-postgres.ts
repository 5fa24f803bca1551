/**
 * A throwaway PostgreSQL cluster from Debian's `postgresql` package on a free loopback port, for
 * one test file: initdb into a fresh directory, pg_ctl start, and stop by pg_ctl (its postmaster
 * PID file) in afterAll. Postgres refuses to run as root, so as root every command runs as the
 * `postgres` user through `su`.
 */
import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../e2e/helpers/stack.js";

export interface Postgres {
  url: string;
  port: number;
  dir: string;
  /** The server log, for failure reports. */
  log(): string;
  stop(): void;
}

/** The newest installed major's bin directory (/usr/lib/postgresql/<major>/bin). */
export function postgresBin(): string {
  const root = "/usr/lib/postgresql";
  const majors = existsSync(root) ? readdirSync(root).filter((d) => existsSync(join(root, d, "bin/pg_ctl"))) : [];
  const newest = majors.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/pg_ctl): apt-get install postgresql");
  return join(root, newest, "bin");
}

const asRoot = process.getuid?.() === 0;

/** Runs a Postgres program, as the `postgres` user when we are root. */
function pg(bin: string, program: string, args: string[], timeout = 60_000): string {
  const command = [join(bin, program), ...args];
  if (!asRoot) return execFileSync(command[0], command.slice(1), { encoding: "utf8", timeout });
  const quoted = command.map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(" ");
  return execFileSync("/bin/su", ["postgres", "-s", "/bin/sh", "-c", quoted], { encoding: "utf8", timeout });
}

export async function startPostgres(): Promise<Postgres> {
  const bin = postgresBin();
  const dir = mkdtempSync(join(tmpdir(), "otel-auth-audit-pg-"));
  if (asRoot) {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, "data");
  const logFile = join(dir, "pg.log");
  const log = () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : "(no log)");
  pg(bin, "initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync"], 120_000);
  const port = await freePort();
  try {
    pg(bin, "pg_ctl", ["-D", data, "-o", `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, "-l", logFile, "-w", "-t", "60", "start"], 90_000);
  } catch (error) {
    throw new Error(`pg_ctl start failed: ${(error as Error).message}\n${log()}`);
  }
  let stopped = false;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dir,
    log,
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        pg(bin, "pg_ctl", ["-D", data, "-m", "fast", "-w", "-t", "30", "stop"]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
