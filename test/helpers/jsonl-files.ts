import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Writes OTLP JSON lines to numbered files in a temporary directory; `remove()` deletes them all. */
export function jsonlFiles(prefix: string): { fileOf: (lines: string[]) => string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  let n = 0;
  return {
    fileOf: (lines) => {
      const path = join(dir, `log-${n++}.jsonl`);
      writeFileSync(path, lines.join("\n") + "\n");
      return path;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
