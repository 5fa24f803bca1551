import { defineConfig } from "vitest/config";

// The consumer stage (test/app): the package as a user gets it — `npm pack`, installed into fresh
// apps. No aliases to src/: everything here goes through the tarball the global setup packs.
export default defineConfig({
  test: {
    include: ["test/app/**/*.test.ts"],
    globalSetup: ["test/app/global-setup.ts"],
    // Apps install packages and start servers: one file at a time.
    fileParallelism: false,
    sequence: { concurrent: false },
    testTimeout: 600_000,
    hookTimeout: 600_000,
  },
});
