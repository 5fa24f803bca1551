import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ARTIFACTS } from "./next-app.js";

/**
 * On a failed test: writes what the processes said (next start, collector, Loki, Postgres) to
 * .tmp/artifacts/<name>-failure.log and prints it, so a red CI log explains itself.
 */
export function reportFailure(name: string, sections: Record<string, () => string>): void {
  const text = Object.entries(sections)
    .map(([title, read]) => {
      let body: string;
      try {
        body = read();
      } catch (error) {
        body = `(unreadable: ${(error as Error).message})`;
      }
      return `===== ${title} =====\n${body.slice(-12_000)}`;
    })
    .join("\n");
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}-failure.log`);
  writeFileSync(path, text);
  console.error(`app: ${name} failed; logs in ${path}\n${text}`);
}
