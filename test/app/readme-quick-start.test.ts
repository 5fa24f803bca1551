/**
 * The README's quick start is the example app the consumer stage builds and drives: every file the
 * quick start shows (a ```ts block headed by its path) is, byte for byte, that file of
 * examples/next-app. Edit one, and this fails until the other says the same.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO } from "./helpers/consumer.js";
import { readmeSnippets } from "./readme-snippets.js";

const APP = join(REPO, "examples/next-app");

describe.skipIf(!existsSync(APP))("the README quick start", () => {
  const readme = readFileSync(join(REPO, "README.md"), "utf8");
  const start = readme.indexOf("\n## Quick start");
  const end = readme.indexOf("\n## ", start + 1);
  const quickStart = readme.slice(start, end);
  const files = readmeSnippets(quickStart).filter((s) => !s.path.startsWith("readme/"));

  it("shows the files of the app's server side", () => {
    expect(files.map((f) => f.path).sort()).toEqual(["app/api/auth/[...all]/route.ts", "instrumentation-node.ts", "instrumentation.ts", "lib/auth.ts"]);
  });

  it.each(files.map((f) => [f.path, f] as const))("%s is examples/next-app's file", (path, snippet) => {
    const shown = snippet.code.split("\n").slice(1).join("\n").trimEnd();
    expect(shown).toBe(readFileSync(join(APP, path), "utf8").trimEnd());
  });
});
