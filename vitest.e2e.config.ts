import { defineConfig } from "vitest/config";
import unit from "./vitest.config.js";

// The e2e suite (test/e2e): a real collector and Loki, started once by the global setup.
export default defineConfig({
  resolve: unit.resolve,
  test: {
    include: ["test/e2e/**/*.test.ts"],
    globalSetup: ["test/e2e/global-setup.ts"],
    // One Loki and one collector are shared, and one test stops Loki: files and tests in sequence.
    fileParallelism: false,
    sequence: { concurrent: false },
    testTimeout: 180_000,
    hookTimeout: 180_000,
    // The global setup may have to build the binaries (minutes when the Go caches are cold).
    globalSetupTimeout: 30 * 60_000,
  } as Record<string, unknown>,
});
