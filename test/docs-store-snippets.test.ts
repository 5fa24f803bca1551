/**
 * docs/store.md's TypeScript compiles as written against this package (the Prisma and Drizzle
 * schema blocks aside: they need an ORM this repository does not install).
 */
import { readFileSync, mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { expect, it } from "vitest";

it("every ts block of docs/store.md type-checks (strict)", () => {
  const doc = readFileSync(new URL("../docs/store.md", import.meta.url), "utf8");
  const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((b) => !b.includes("drizzle-orm"));
  expect(blocks.length).toBeGreaterThanOrEqual(3);
  const dir = mkdtempSync(join(new URL("..", import.meta.url).pathname, ".snippets-"));
  try {
    const files = blocks.map((code, i) => {
      const file = join(dir, `block${i}.ts`);
      writeFileSync(file, code);
      return file;
    });
    const config = ts.getParsedCommandLineOfConfigFile(new URL("../tsconfig.json", import.meta.url).pathname, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
    const program = ts.createProgram(files, { ...config.options, noEmit: true });
    const problems = ts.getPreEmitDiagnostics(program).map((d) => `${d.file ? d.file.fileName.split("/").pop() : ""}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
    expect(problems).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
