/**
 * Where the added time of one audited sign-out goes (`stage.*` in bench/results.json).
 *
 * 1. CPU profiles (node:inspector) of the same number of sign-outs, plus the background work they
 *    leave (store writes, spool export), in four apps: bare, a do-nothing after-hook, the
 *    pipeline only, the plugin's default (pipeline + database store, node:sqlite). Each sample is
 *    given to the innermost stage on its stack (bench/profile.ts); better-auth's hook machinery
 *    and the store's asynchronous database work have no frame of ours, so they show as the
 *    growth of the "better-auth, database" row over bare.
 * 2. Direct timers (process.hrtime) around every processor's onEmit in the default app.
 *   npm run bench -- stages        STAGE_REQUESTS=2000 sets the sign-outs per app
 */
import type { LogRecordProcessor } from "@opentelemetry/sdk-logs";
import { benchApp, type BenchApp, type Kind } from "./apps.js";
import { printTable, round, writeFigures, type Figure } from "./lib.js";
import { GC, OTHER, profileStages } from "./profile.js";

const N = Number(process.env.STAGE_REQUESTS ?? 1000);
const BATCH = 250;

async function signOuts(app: BenchApp, n: number, run: (work: () => Promise<void>) => Promise<void>): Promise<void> {
  for (let done = 0; done < n; done += BATCH) {
    const cookies: string[] = [];
    for (let i = 0; i < BATCH; i++) cookies.push(await app.signIn());
    await app.settle();
    await run(async () => {
      for (const cookie of cookies) await (await app.call("/sign-out", { cookie })).arrayBuffer();
      await app.settle();
    });
  }
}

// direct timers around each processor's onEmit
const timers = new Map<string, { us: number; calls: number }>();
const timed = (processor: LogRecordProcessor, name: string): LogRecordProcessor => {
  const t = { us: 0, calls: 0 };
  timers.set(name, t);
  return {
    onEmit(record, context) {
      const t0 = process.hrtime.bigint();
      processor.onEmit(record, context);
      t.us += Number(process.hrtime.bigint() - t0) / 1000;
      t.calls++;
    },
    forceFlush: () => processor.forceFlush(),
    shutdown: () => processor.shutdown(),
  };
};

const kinds: Kind[] = ["bare", "hook", "pipeline", "stored"];
const apps = Object.fromEntries(
  await Promise.all(kinds.map(async (k) => [k, await benchApp(k, k === "stored" ? { wrap: timed } : {})] as const)),
) as Record<Kind, BenchApp>;

// every app in its steady state first: V8 optimises the record path after a few thousand records
const WARM = Number(process.env.REQUEST_WARM_OPS ?? 1500);
for (const k of kinds) await signOuts(apps[k], WARM, (w) => w());

const perRequest: Record<Kind, Map<string, number>> = {} as never;
const functions = new Map<string, number>();
const cpuPerRequest: Record<string, number> = {};
// the apps take turns, a batch each, so a drift of the machine touches all of them alike
const totals = Object.fromEntries(kinds.map((k) => [k, { stages: new Map<string, number>(), cpu: 0 }])) as Record<Kind, { stages: Map<string, number>; cpu: number }>;
for (let done = 0; done < N; done += BATCH) {
  for (const k of done % (2 * BATCH) ? [...kinds].reverse() : kinds) {
    await signOuts(apps[k], BATCH, async (work) => {
      const c0 = process.cpuUsage();
      const stages = await profileStages(work, k === "stored" ? functions : undefined);
      const c = process.cpuUsage(c0);
      totals[k].cpu += c.user + c.system;
      for (const [s, us] of stages) totals[k].stages.set(s, (totals[k].stages.get(s) ?? 0) + us);
    });
  }
}
const requests = Math.ceil(N / BATCH) * BATCH;
for (const k of kinds) {
  // sampled time includes moments the process waited for a core (a busy machine): scale the
  // stages to the CPU time the process really used
  const total = totals[k].stages;
  const sampled = [...total.values()].reduce((a, b) => a + b, 0);
  cpuPerRequest[k] = totals[k].cpu / requests;
  perRequest[k] = new Map([...total].map(([s, us]) => [s, (us / sampled) * cpuPerRequest[k]]));
  if (k === "stored") for (const [f, us] of functions) functions.set(f, (us / sampled) * cpuPerRequest[k]);
}

// the timers, without the profiler running
for (const t of timers.values()) Object.assign(t, { us: 0, calls: 0 });
await signOuts(apps.stored, N, (w) => w());
for (const app of Object.values(apps)) await app.close();

const stages = [...new Set(kinds.flatMap((k) => [...perRequest[k].keys()]))].sort((a, b) => (a === OTHER ? 1 : b === OTHER ? -1 : a === GC ? 1 : b === GC ? -1 : a.localeCompare(b)));
const at = (k: Kind, s: string) => perRequest[k].get(s) ?? 0;
const sum = (k: Kind) => [...perRequest[k].values()].reduce((a, b) => a + b, 0);
const rows = stages.map((s) => ({
  stage: s,
  "bare µs": at("bare", s).toFixed(1),
  "hook µs": at("hook", s).toFixed(1),
  "pipeline µs": at("pipeline", s).toFixed(1),
  "default µs": at("stored", s).toFixed(1),
  "default − bare µs": (at("stored", s) - at("bare", s)).toFixed(1),
}));
rows.push({
  stage: "total CPU (process.cpuUsage)",
  "bare µs": sum("bare").toFixed(1),
  "hook µs": sum("hook").toFixed(1),
  "pipeline µs": sum("pipeline").toFixed(1),
  "default µs": sum("stored").toFixed(1),
  "default − bare µs": (sum("stored") - sum("bare")).toFixed(1),
});
console.log(`\nCPU per audited sign-out by stage (profile, ${N} sign-outs per app, with their background work), µs/request`);
printTable(rows);
if (process.env.STAGE_TOP) {
  console.log("\nTop functions of the default app (innermost frame of a stage), µs/request");
  printTable([...functions].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.STAGE_TOP)).map(([f, us]) => ({ function: f.slice(0, 110), "µs": us.toFixed(1) })));
}
const timerRows = [...timers].map(([name, t]) => ({ processor: name, "onEmit µs/record": (t.us / Math.max(1, t.calls)).toFixed(2), records: t.calls }));
console.log("\nDirect timers around each processor's onEmit in the default app, profiler off (sign-in and sign-out records)");
printTable(timerRows);

const key = (s: string) =>
  s
    .replace(/\(.*?\)/g, "")
    .trim()
    .replace(/[^a-z0-9]+/gi, "_")
    .replace(/^_|_$/g, "")
    .toLowerCase();
const figures: Record<string, Figure> = {};
for (const s of stages) {
  figures[`stage.${key(s)}`] = { value: round(at("stored", s) - at("bare", s)), unit: "µs/request added (default − bare, CPU profile)", baseline: round(at("bare", s)), label: s, default_us: round(at("stored", s)), pipeline_us: round(at("pipeline", s)), hook_us: round(at("hook", s)) };
}
figures["stage.hook_machinery"] = { value: round(sum("hook") - sum("bare")), unit: "µs/request (do-nothing after-hook − bare, CPU profile)" };
// work with no frame of ours: a store INSERT through better-auth's adapter (databases without a
// direct insert, and the one-by-one path) runs after an await; the direct insert counts as the store's stage
figures["stage.store_database_work"] = { value: round(at("stored", OTHER) - at("pipeline", OTHER)), unit: "µs/request (store work with no frame of ours, e.g. better-auth's adapter: default − pipeline, unattributed row)" };
figures["stage.pipeline_unattributed"] = { value: round(at("pipeline", OTHER) - at("bare", OTHER)), unit: "µs/request (hook machinery and other unattributed work: pipeline − bare)" };
console.log(
  `\nderived: better-auth's hook machinery (hook − bare) ${figures["stage.hook_machinery"].value} µs; the store's work with no frame of ours ` +
    `(default − pipeline, unattributed) ${figures["stage.store_database_work"].value} µs; unattributed work of the pipeline variant ${figures["stage.pipeline_unattributed"].value} µs`,
);
figures["stage.total_added"] = { value: round(sum("stored") - sum("bare")), unit: "µs/request (default − bare, CPU profile)", baseline: round(sum("bare")) };
for (const [name, t] of timers) figures[`stage.timer.${key(name)}`] = { value: round(t.us / Math.max(1, t.calls), 3), unit: "µs/record (hrtime around onEmit)" };
writeFigures(figures);
