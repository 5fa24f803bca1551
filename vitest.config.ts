import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Tests import the package by its public names (`otel-auth-audit`, `otel-auth-audit/verify` …),
// served from the sources: one alias per entry of package.json's `exports`, from its source condition.
const pkg = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8")) as {
  exports: Record<string, string | Record<string, string>>;
};
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
const alias = Object.entries(pkg.exports)
  .filter((entry): entry is [string, Record<string, string>] => typeof entry[1] === "object")
  .map(([subpath, conditions]) => ({
    find: new RegExp(`^${escapeRegExp(`otel-auth-audit${subpath.slice(1)}`)}$`),
    replacement: fileURLToPath(new URL(conditions["otel-auth-audit:source"], import.meta.url)),
  }));

export default defineConfig({
  resolve: { alias },
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/e2e/**", "test/app/**", "node_modules/**"],
    testTimeout: 30_000,
  },
});
