import { describe, expect, it } from "vitest";
import { startApp } from "./helpers/child.js";
import { useCleanup } from "./helpers/cleanup.js";

/** The outage length; DURABLE_OUTAGE_MS=60000 runs the full-length version. */
const OUTAGE_MS = Number(process.env.DURABLE_OUTAGE_MS ?? 15_000);

const { cleanup, tempDir, receiver } = useCleanup();



const isId = (line: string) => line.startsWith("rec-");

describe("DurableLogRecordProcessor in a real app process", () => {
  // "never" too: a crash of the process (not the machine) loses nothing under any fsync policy.
  it.each(["always", "never"])("kill -9 mid-stream loses nothing acknowledged (fsync=%s): the restart replays it", async (fsync) => {
    const rx = await receiver();
    rx.reply = () => ({ delayMs: 300 }); // a slow collector: a backlog builds up in the spool
    const directory = tempDir();
    const config = { mode: "stream", directory, url: rx.url, fsync, rate: 400 };

    const app = startApp(config, 30_000);
    cleanup.push(() => void app.child.kill("SIGKILL"));
    await app.waitForLine("started", 15_000);
    const deadline = Date.now() + 15_000;
    while (app.lines.filter(isId).length < 600 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    app.child.kill("SIGKILL");
    const { signal } = await app.exited;
    expect(signal).toBe("SIGKILL");
    const acknowledged = app.lines.filter(isId);
    expect(acknowledged.length).toBeGreaterThanOrEqual(600);
    const beforeRestart = acknowledged.filter((id) => rx.ids.has(id)).length;

    const restart = startApp({ ...config, mode: "drain" }, 60_000);
    cleanup.push(() => void restart.child.kill("SIGKILL"));
    const started = await restart.waitForLine("started", 15_000);
    const recovered = Number(started.split(" ").at(-1));
    await restart.waitForLine("done", 45_000);
    await restart.exited;

    const missing = acknowledged.filter((id) => !rx.ids.has(id));
    expect(missing).toEqual([]);
    // The point of the test: the crash really left records that only the replay delivered.
    expect(recovered).toBeGreaterThan(0);
    expect(beforeRestart).toBeLessThan(acknowledged.length);
    console.info(
      `kill -9 (fsync=${fsync}): ${acknowledged.length} acknowledged, ${beforeRestart} delivered before the kill, ${recovered} replayed after restart, ${rx.duplicates} duplicates`,
    );
  }, 90_000);

  it(`an outage of ${OUTAGE_MS / 1000} s at 1,000 records/s: every record arrives, RSS grows ≤ 50 MB`, async () => {
    const rx = await receiver();
    const directory = tempDir();
    const app = startApp(
      { mode: "stream", directory, url: rx.url, rate: 1000, durationMs: OUTAGE_MS + 4000, printIds: false },
      OUTAGE_MS + 90_000,
    );
    cleanup.push(() => void app.child.kill("SIGKILL"));
    await app.waitForLine("started", 15_000);
    await new Promise((r) => setTimeout(r, 1500));
    const rssLines = () => app.lines.filter((l) => l.startsWith("rss ")).map((l) => Number(l.slice(4)));
    const baseline = rssLines().at(-1)!;
    const deliveredBefore = rx.unique;
    await rx.down();
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    const duringOutage = rx.unique;
    await rx.up();
    const done = await app.waitForLine("done", 60_000);
    await app.exited;

    const emitted = Number((await app.waitForLine("emitted", 1000)).split(" ")[1]);
    const health = JSON.parse(done.slice(5)) as { spooledRecords: number; totals: { dropped: number; retried: number } };
    const expected = Array.from({ length: emitted }, (_, i) => `rec-${i}`);
    const missing = expected.filter((id) => !rx.ids.has(id));
    const unexpected = [...rx.ids.keys()].filter((id) => !id.startsWith("rec-") || Number(id.slice(4)) >= emitted);
    const growthMb = (Math.max(...rssLines()) - baseline) / 2 ** 20;
    console.info(
      `outage ${OUTAGE_MS} ms: ${emitted} emitted, ${rx.unique} unique delivered (${rx.duplicates} duplicates), ${deliveredBefore} before the outage, RSS +${growthMb.toFixed(1)} MB, ${health.totals.retried} records retried`,
    );
    expect(emitted).toBeGreaterThanOrEqual(((OUTAGE_MS + 4000) * 0.9 * 1000) / 1000);
    expect(duringOutage).toBe(deliveredBefore); // nothing got through while down
    expect(missing).toEqual([]);
    expect(unexpected).toEqual([]);
    expect(rx.unique).toBe(emitted);
    expect(health.spooledRecords).toBe(0);
    expect(health.totals.dropped).toBe(0);
    expect(health.totals.retried).toBeGreaterThan(0);
    expect(growthMb).toBeLessThanOrEqual(50);
  }, OUTAGE_MS + 120_000);
});
