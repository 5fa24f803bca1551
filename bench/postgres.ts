/**
 * A throwaway PostgreSQL cluster for the benchmarks: Debian's binaries, run as the `postgres`
 * user (Postgres refuses root), on a free local port, stopped by pg_ctl at the end. Returns
 * undefined when PostgreSQL is not installed, so its figures are reported as skipped.
 */
import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface LocalPostgres {
  /** A connection string for a new, empty database of this cluster. */
  database(name: string): Promise<string>;
  stop(): void;
}

function binDir(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  for (const version of readdirSync(root).sort().reverse()) {
    const bin = join(root, version, "bin");
    if (existsSync(join(bin, "pg_ctl")) && existsSync(join(bin, "initdb"))) return bin;
  }
  return undefined;
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export async function startPostgres(): Promise<LocalPostgres | { skipped: string }> {
  const bin = binDir();
  if (!bin) return { skipped: "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/pg_ctl)" };
  let pg: typeof import("pg");
  try {
    pg = await import("pg");
  } catch {
    return { skipped: "the `pg` driver is not installed" };
  }
  const dir = mkdtempSync(join(tmpdir(), "otel-auth-audit-bench-pg-"));
  const data = join(dir, "data");
  const asPostgres = (command: string) => execFileSync("su", ["postgres", "-c", command], { stdio: "pipe", timeout: 120_000 });
  try {
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
    chownSync(dir, uid, gid);
    const port = await freePort();
    asPostgres(`${bin}/initdb -D ${quote(data)} -A trust -U postgres`);
    asPostgres(
      `${bin}/pg_ctl -D ${quote(data)} -o ${quote(`-p ${port} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=on`)} -l ${quote(join(dir, "pg.log"))} -w start`,
    );
    const url = (db: string) => `postgres://postgres@127.0.0.1:${port}/${db}`;
    let stopped = false;
    const stop = () => {
      if (stopped) return;
      stopped = true;
      try {
        asPostgres(`${bin}/pg_ctl -D ${quote(data)} -m fast -w stop`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    };
    process.on("exit", stop);
    return {
      async database(name) {
        const admin = new pg.default.Client({ connectionString: url("postgres") });
        await admin.connect();
        await admin.query(`CREATE DATABASE "${name}"`);
        await admin.end();
        return url(name);
      },
      stop,
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    return { skipped: `PostgreSQL did not start: ${(error as Error).message.split("\n")[0]}` };
  }
}
