/**
 * Latency, CPU and heap allocation of better-auth requests through `auth.handler`, with and
 * without the audit plugin, all variants interleaved in one process (bench/lib.ts):
 *   sign-out (audited): bare, bare again (the control pair), a do-nothing after-hook plugin,
 *     the OTel pipeline only (redaction, chain, spool → no-op exporter), the plugin's default
 *     (pipeline + database store) on node:sqlite; then bare vs default on PostgreSQL;
 *   get-session (not audited: only the matcher runs);
 *   sign-in with real scrypt.
 * The control twins run back to back in every round, and every ratio is the median of per-round
 * ratios (a busy round slows both sides of it). Each group is measured again (BENCH_ATTEMPTS,
 * default 3) while its control pair lies outside [0.98, 1.02]; a group that never holds is printed
 * and stored as VOID (`noise_ok: false`).
 * Before its group is measured, every app serves REQUEST_WARM_OPS (default 1500) unmeasured
 * sign-in/sign-out pairs (get-session: requests), so the figures are of a server in its steady
 * state: V8 optimises the record path (chain, spool) only after a few thousand records, and a
 * bench of a few hundred would otherwise time interpreter code no running server runs.
 *   npm run bench -- request          BENCH_ROUNDS=25 scales the rounds (default 60)
 */
import pg from "pg";
import { benchApp, type BenchApp } from "./apps.js";
import { interleave, pairedRatio, printTable, ratioFigure, round, statsTable, untilQuiet, writeFigures, type Figure, type VariantStats } from "./lib.js";
import { startPostgres } from "./postgres.js";

// 60 rounds by default: at 25 a control pair's interval spanned ±10 %, wider than the goals' margins
const SCALE = Number(process.env.BENCH_ROUNDS ?? 60) / 25;
// whole cycles of the balanced orders (4 slots in the largest group)
const rounds = (n: number) => Math.max(4, 4 * Math.round((n * SCALE) / 4));

const signOut = (app: BenchApp) => {
  let cookies: string[] = [];
  return {
    prepare: async (ops: number) => {
      cookies = [];
      for (let i = 0; i < ops; i++) cookies.push(await app.signIn());
    },
    run: async (ops: number) => {
      for (let i = 0; i < ops; i++) {
        const res = await app.call("/sign-out", { cookie: cookies[i] });
        await res.arrayBuffer();
      }
    },
    settle: app.settle,
  };
};
const getSession = (app: BenchApp) => ({
  run: async (ops: number) => {
    for (let i = 0; i < ops; i++) await (await app.call("/get-session", { method: "GET", cookie: app.cookie })).arrayBuffer();
  },
  settle: app.settle,
});
const signIn = (app: BenchApp) => ({ run: async (ops: number) => void (await Promise.all(Array.from({ length: ops }, () => app.signIn()))), settle: app.settle });

const WARM_OPS = Number(process.env.REQUEST_WARM_OPS ?? 1500);
/** The steady state first: every app of the group serves `ops` requests, in turns, unmeasured. */
async function warm(variants: Record<string, { prepare?: (ops: number) => Promise<void>; run: (ops: number) => Promise<void>; settle?: () => Promise<void> }>, ops = WARM_OPS) {
  const block = 50;
  for (let done = 0; done < ops; done += block) {
    for (const v of Object.values(variants)) {
      await v.prepare?.(block);
      await v.run(block);
      await v.settle?.();
    }
  }
}

const figures: Record<string, Figure> = {};
const summary: Array<Record<string, string>> = [];
const show = (title: string, stats: Record<string, VariantStats>, baseline: string, held: boolean, attempts: number) => {
  console.log(`\n${title} — ${held ? "noise check held" : "VOID: noise check failed"} (attempts: ${attempts})`);
  printTable(statsTable(stats, baseline));
};
// the twins run back to back in every round: the median of their per-round ratios is the noise
const control = (a: VariantStats, b: VariantStats) => pairedRatio(a.samples.wall, b.samples.wall).median;
/** The gate is the control's median ratio; a control whose interval is wider than ±5 % held by luck, and says so. */
const noiseRow = (group: string, held: boolean, f: Figure) => {
  const [lo, hi] = f.ratio_ci ?? [0, Infinity];
  const wide = lo < 0.95 || hi > 1.05;
  return { group, noise: held ? (wide ? "held, but its CI is wide: treat as noisy" : "held") : "VOID", control: f.value.toFixed(4), "control 95% CI": `${lo}–${hi}` };
};

// sign-out on node:sqlite
{
  const apps = {
    bare: await benchApp("bare"),
    bare_control: await benchApp("bare"),
    hook: await benchApp("hook"),
    pipeline: await benchApp("pipeline"),
    stored: await benchApp("stored"),
  };
  const variants = { bare: signOut(apps.bare), bare_control: signOut(apps.bare_control), hook: signOut(apps.hook), pipeline: signOut(apps.pipeline), stored: signOut(apps.stored) };
  await warm(variants);
  const r = await untilQuiet("sign-out (node:sqlite)", async () => {
    const stats = await interleave(
      variants,
      { twins: ["bare", "bare_control"], rounds: rounds(24), ops: 40, warmup: 3 },
    );
    return { stats, control: control(stats.bare_control, stats.bare) };
  });
  show("sign-out, node:sqlite", r.stats, "bare", r.noiseOk, r.attempts);
  const s = r.stats;
  figures["request.control_ratio"] = { ...ratioFigure(s.bare_control, s.bare, r.noiseOk, "ratio", true), value: round(r.control, 4), attempts: r.attempts, limits: [0.98, 1.02] };
  figures["request.sign_out_hook_vs_bare"] = ratioFigure(s.hook, s.bare, r.noiseOk, undefined, true);
  figures["request.sign_out_vs_bare"] = ratioFigure(s.pipeline, s.bare, r.noiseOk, undefined, true);
  figures["request.sign_out_stored_vs_bare"] = ratioFigure(s.stored, s.bare, r.noiseOk, undefined, true);
  summary.push(noiseRow("sign-out sqlite", r.noiseOk, figures["request.control_ratio"]));
  for (const app of Object.values(apps)) await app.close();
}

// get-session (not audited)
{
  const apps = { bare: await benchApp("bare"), bare_control: await benchApp("bare"), inert: await benchApp("inert"), pipeline: await benchApp("pipeline"), stored: await benchApp("stored") };
  const variants = { bare: getSession(apps.bare), bare_control: getSession(apps.bare_control), inert: getSession(apps.inert), pipeline: getSession(apps.pipeline), stored: getSession(apps.stored) };
  await warm(variants);
  const r = await untilQuiet("get-session", async () => {
    const stats = await interleave(
      variants,
      // twice the rounds of sign-out: a get-session is short (~1.6 ms) and its goal's margin 2 %;
      // at 56 rounds its control pair's interval still spanned ±4–5 %
      { twins: ["bare", "bare_control"], rounds: rounds(48), ops: 60, warmup: 3 },
    );
    return { stats, control: control(stats.bare_control, stats.bare) };
  });
  show("get-session (not audited)", r.stats, "bare", r.noiseOk, r.attempts);
  figures["request.get_session_control_ratio"] = { ...ratioFigure(r.stats.bare_control, r.stats.bare, r.noiseOk, "ratio", true), value: round(r.control, 4), attempts: r.attempts };
  // a control: a plugin of the audit plugin's shape doing nothing (better-auth's per-request cost of a plugin)
  figures["request.get_session_inert_vs_bare"] = ratioFigure(r.stats.inert, r.stats.bare, r.noiseOk, undefined, true);
  figures["request.get_session_vs_bare"] = ratioFigure(r.stats.pipeline, r.stats.bare, r.noiseOk, undefined, true);
  figures["request.get_session_stored_vs_bare"] = ratioFigure(r.stats.stored, r.stats.bare, r.noiseOk, undefined, true);
  summary.push(noiseRow("get-session", r.noiseOk, figures["request.get_session_control_ratio"]));
  for (const app of Object.values(apps)) await app.close();
}

// sign-out on PostgreSQL: bare and default, each with its own database in one local cluster
{
  const cluster = await startPostgres();
  if ("skipped" in cluster) {
    console.log(`\nsign-out, PostgreSQL: SKIPPED — ${cluster.skipped}`);
    figures["request.sign_out_stored_pg_vs_bare"] = { value: 0, unit: "µs/request", skipped: cluster.skipped };
    summary.push({ group: "sign-out postgres", noise: "skipped", control: "-", "control 95% CI": "-" });
  } else {
    const pools: pg.Pool[] = [];
    const pool = async (name: string) => {
      const p = new pg.Pool({ connectionString: await cluster.database(name), max: 4 });
      pools.push(p);
      return p;
    };
    try {
      const apps = {
        bare: await benchApp("bare", { database: await pool("bare") }),
        bare_control: await benchApp("bare", { database: await pool("bare_control") }),
        stored: await benchApp("stored", { database: await pool("stored") }),
      };
      const variants = { bare: signOut(apps.bare), bare_control: signOut(apps.bare_control), stored: signOut(apps.stored) };
      await warm(variants, Math.round(WARM_OPS / 2));
      const r = await untilQuiet("sign-out (PostgreSQL)", async () => {
        const stats = await interleave(
          variants,
          { twins: ["bare", "bare_control"], rounds: rounds(20), ops: 30, warmup: 2 },
        );
        return { stats, control: control(stats.bare_control, stats.bare) };
      });
      show("sign-out, PostgreSQL (local cluster)", r.stats, "bare", r.noiseOk, r.attempts);
      figures["request.pg_control_ratio"] = { ...ratioFigure(r.stats.bare_control, r.stats.bare, r.noiseOk, "ratio", true), value: round(r.control, 4), attempts: r.attempts };
      figures["request.sign_out_stored_pg_vs_bare"] = ratioFigure(r.stats.stored, r.stats.bare, r.noiseOk, undefined, true);
      summary.push(noiseRow("sign-out postgres", r.noiseOk, figures["request.pg_control_ratio"]));
      for (const app of Object.values(apps)) await app.close();
    } finally {
      await Promise.all(pools.map((p) => p.end()));
      cluster.stop();
    }
  }
}

// sign-in with real scrypt: a handful of requests per round, run concurrently as a login burst would
{
  const apps = { bare: await benchApp("bare", { scrypt: true }), bare_control: await benchApp("bare", { scrypt: true }), stored: await benchApp("stored", { scrypt: true }) };
  const r = await untilQuiet("sign-in (scrypt)", async () => {
    const stats = await interleave({ bare: signIn(apps.bare), bare_control: signIn(apps.bare_control), stored: signIn(apps.stored) }, { twins: ["bare", "bare_control"], rounds: rounds(10), ops: 4, warmup: 1 });
    return { stats, control: control(stats.bare_control, stats.bare) };
  });
  show("sign-in (scrypt)", r.stats, "bare", r.noiseOk, r.attempts);
  figures["request.sign_in_control_ratio"] = { ...ratioFigure(r.stats.bare_control, r.stats.bare, r.noiseOk, "ratio", true), value: round(r.control, 4), attempts: r.attempts };
  figures["request.sign_in_vs_bare"] = ratioFigure(r.stats.stored, r.stats.bare, r.noiseOk, undefined, true);
  summary.push(noiseRow("sign-in scrypt", r.noiseOk, figures["request.sign_in_control_ratio"]));
  for (const app of Object.values(apps)) await app.close();
}

console.log("\nnoise checks (control pair = bare measured twice; its ratio must lie within [0.98, 1.02]):");
printTable(summary);
const goals: Array<[string, number]> = [
  ["request.sign_out_vs_bare", 1.1],
  ["request.sign_out_stored_vs_bare", 1.1],
  ["request.sign_out_stored_pg_vs_bare", 1.1],
  ["request.get_session_vs_bare", 1.02],
  ["request.sign_in_vs_bare", 1.02],
];
printTable(
  goals.map(([name, goal]) => {
    const f = figures[name];
    const ci = f?.ratio_ci;
    const verdict = f?.skipped
      ? "skipped"
      : f.noise_ok === false
        ? "VOID (noisy run)"
        : f.ratio! <= goal
          ? ci && ci[1] > goal ? "met (CI reaches above the goal)" : "met"
          : ci && ci[0] <= goal ? "not met (CI reaches the goal)" : "not met";
    return { figure: name, ratio: f?.ratio === undefined ? "-" : f.ratio.toFixed(3), "ratio 95% CI": f?.ratio_ci ? `${f.ratio_ci[0]}–${f.ratio_ci[1]}` : "-", goal: `≤ ${goal}`, verdict };
  }),
);
writeFigures(figures);
