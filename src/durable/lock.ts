import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { SpoolLockedError } from "../errors.js";

/**
 * The `lock` file of a spool directory: one process writes a spool at a time. It holds the owner's
 * pid and the identity of that process — its start time (Linux: `/proc/<pid>/stat`, clock ticks
 * since boot) and the boot id — so a lock whose pid now belongs to another process (the owner died,
 * the pid was reused, or the machine rebooted) is recognised as stale and taken over.
 * A lock from an older version (a bare pid) is stale when that pid's process started after the
 * lock file was written.
 */
export interface LockOwner {
  pid: number;
  /** Process start time in clock ticks since boot (Linux), or null where unknown. */
  start: number | null;
  boot: string | null;
}

/** Directories held by this process: a second spool on one directory would interleave writes. */
const HELD = new Set<string>();

export class SpoolLock {
  readonly directory: string;
  readonly path: string;
  /** The stale owner this lock was taken over from, if any (for the report). */
  takenOver: LockOwner | undefined;

  constructor(directory: string) {
    this.directory = directory;
    this.path = join(directory, "lock");
  }

  /** Takes the lock, or throws SpoolLockedError when a live process holds it. */
  acquire(): void {
    if (HELD.has(this.directory)) throw new SpoolLockedError(this.directory, process.pid);
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = openSync(this.path, "wx");
        writeSync(fd, JSON.stringify(currentOwner()));
        closeSync(fd);
        HELD.add(this.directory);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      const owner = readOwner(this.path);
      if (owner && isHeldBy(owner, this.path)) throw new SpoolLockedError(this.directory, owner.pid);
      this.takenOver = owner ?? undefined;
      try {
        unlinkSync(this.path); // stale
      } catch {
        // another process took it over first; try again
      }
    }
    throw new SpoolLockedError(this.directory, readOwner(this.path)?.pid ?? 0);
  }

  release(): void {
    if (!HELD.delete(this.directory)) return;
    try {
      if (readOwner(this.path)?.pid === process.pid) unlinkSync(this.path);
    } catch {
      // already gone
    }
  }
}

/** Whether a spool directory's lock is held by a live process (for finding stranded spools). */
export function isLocked(directory: string): boolean {
  if (HELD.has(directory)) return true;
  const path = join(directory, "lock");
  const owner = readOwner(path);
  return owner !== undefined && isHeldBy(owner, path);
}

function currentOwner(): LockOwner {
  return { pid: process.pid, start: processStart(process.pid), boot: bootId() };
}

/** The owner written in a lock file; undefined when there is no lock file. */
function readOwner(path: string): LockOwner | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8").trim();
  } catch {
    return undefined;
  }
  if (/^\d+$/.test(text)) return { pid: Number(text), start: null, boot: null }; // an older version's lock
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    if (Number.isSafeInteger(o.pid)) return { pid: o.pid!, start: typeof o.start === "number" ? o.start : null, boot: typeof o.boot === "string" ? o.boot : null };
  } catch {
    // half-written or garbage: nobody can be proven to hold it
  }
  return { pid: 0, start: null, boot: null };
}

function isHeldBy(owner: LockOwner, lockPath: string): boolean {
  if (!(owner.pid > 0) || !isAlive(owner.pid)) return false;
  if (owner.pid === process.pid) return HELD.has(join(lockPath, ".."));
  const boot = bootId();
  if (owner.boot && boot && owner.boot !== boot) return false; // written before a reboot
  const start = processStart(owner.pid);
  if (owner.start !== null && start !== null) return owner.start === start; // the same process, or a reused pid
  if (owner.start === null && start !== null) {
    // an older lock without a start time: a process that started after the lock was written cannot own it
    const startedAt = processStartMs(start);
    const written = lockMtimeMs(lockPath);
    if (startedAt !== null && written !== null && startedAt > written + 1000) return false;
  }
  return true;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Field 22 of /proc/<pid>/stat (after the parenthesised command name, which may hold spaces). */
export function processStart(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const start = Number(fields[19]);
    return Number.isSafeInteger(start) ? start : null;
  } catch {
    return null;
  }
}

let boot: string | null | undefined;
function bootId(): string | null {
  if (boot !== undefined) return boot;
  try {
    boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim() || null;
  } catch {
    boot = null;
  }
  return boot;
}

/** Wall-clock ms of a process start given in clock ticks since boot (assumes 100 ticks/s, as Linux reports). */
function processStartMs(ticks: number): number | null {
  try {
    const uptime = Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]);
    return Date.now() - uptime * 1000 + (ticks / 100) * 1000;
  } catch {
    return null;
  }
}

function lockMtimeMs(path: string): number | null {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return null;
  }
}
