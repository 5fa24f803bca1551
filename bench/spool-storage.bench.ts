/**
 * Why the spool is append-only segment files and not node:sqlite: appends one ~600-byte audit
 * record at a time (as onEmit must, synchronously), per fsync policy, with both back ends.
 * Run: npx tsx bench/spool-storage.bench.ts
 */
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { crc32 } from "node:zlib";

const record = JSON.stringify([
  [1767225600, 123456789], [1767225600, 123456789], null, 9, "INFO", "sign-in:email success", "auth.sign_in.email",
  {
    "audit.action": "sign-in:email", "audit.outcome": "success", "audit.severity": "medium",
    "audit.id": "01980000-0000-7000-8000-000000000000", "user.id": "user_2x9sKdLq0b", "session.id": "sess_8f7a6b5c4d",
    "client.address": "203.0.113.7", "user_agent.original": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/140.0",
    "http.request.method": "POST", "url.path": "/api/auth/sign-in/email", "http.response.status_code": 200,
  }, 0, 0, 0,
]);

function segments(n: number, fsync: "always" | "never"): number {
  const dir = mkdtempSync(join(tmpdir(), "spool-bench-"));
  const fd = openSync(join(dir, "seg"), "a");
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const payload = Buffer.from(record);
    const frame = Buffer.allocUnsafe(8 + payload.length);
    frame.writeUInt32LE(payload.length, 0);
    frame.writeUInt32LE(crc32(payload), 4);
    payload.copy(frame, 8);
    writeSync(fd, frame);
    if (fsync === "always") fdatasyncSync(fd);
  }
  const us = Number(process.hrtime.bigint() - t0) / 1000 / n;
  closeSync(fd);
  rmSync(dir, { recursive: true });
  return us;
}

function sqlite(n: number, sync: "FULL" | "OFF"): number {
  const dir = mkdtempSync(join(tmpdir(), "spool-bench-"));
  const db = new DatabaseSync(join(dir, "spool.db"));
  db.exec(`PRAGMA journal_mode=WAL; PRAGMA synchronous=${sync}; CREATE TABLE spool (seq INTEGER PRIMARY KEY, rec TEXT NOT NULL)`);
  const insert = db.prepare("INSERT INTO spool (rec) VALUES (?)");
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) insert.run(record);
  const us = Number(process.hrtime.bigint() - t0) / 1000 / n;
  db.close();
  rmSync(dir, { recursive: true });
  return us;
}

const rows = [];
for (let round = 0; round < 3; round++) {
  rows.push({
    round,
    "segments never µs": segments(50_000, "never").toFixed(2),
    "sqlite sync=OFF µs": sqlite(50_000, "OFF").toFixed(2),
    "segments always µs": segments(2_000, "always").toFixed(1),
    "sqlite sync=FULL µs": sqlite(2_000, "FULL").toFixed(1),
  });
}
console.table(rows);
