import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests import the package by its public name, served from the sources.
    alias: [
      { find: /^otel-auth-audit\/better-auth\/client$/, replacement: src("better-auth/client.ts") },
      { find: /^otel-auth-audit\/better-auth$/, replacement: src("better-auth/index.ts") },
      { find: /^otel-auth-audit\/authjs$/, replacement: src("authjs/index.ts") },
      { find: /^otel-auth-audit\/testing$/, replacement: src("testing/index.ts") },
      { find: /^otel-auth-audit$/, replacement: src("index.ts") },
    ],
  },
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/e2e/**", "test/app/**", "node_modules/**"],
    testTimeout: 30_000,
  },
});
