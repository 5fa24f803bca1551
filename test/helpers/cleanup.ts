import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import { startReceiver, type OtlpReceiver } from "./otlp-receiver.js";

/**
 * Things a test made that must go when it ends, undone in reverse order after each test:
 * `cleanup.push(fn)`, or the helpers below that register themselves.
 */
export function useCleanup(timeoutMs = 30_000) {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  }, timeoutMs);
  return {
    cleanup,
    /** A fresh spool directory, removed after the test. */
    tempDir(): string {
      const dir = mkdtempSync(join(tmpdir(), "otel-auth-audit-durable-"));
      cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
      return dir;
    },
    /** A local OTLP receiver, closed after the test. */
    async receiver(): Promise<OtlpReceiver> {
      const rx = await startReceiver();
      cleanup.push(() => rx.close());
      return rx;
    },
  };
}
