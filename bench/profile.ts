/**
 * CPU profiles through `node:inspector` and their attribution to the stages of an audited
 * request: every sample goes to the innermost frame on its stack that belongs to a stage (one of
 * our source files, the OTel SDK), so the native work a stage calls (hashing, a write) counts for
 * it; samples with no such frame are the auth library's own work.
 */
import { Session } from "node:inspector/promises";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Stage of a source location; first match wins. */
const STAGES: Array<[string, RegExp]> = [
  ["our after-hook (outcome, IP, subject, db hooks)", /\/src\/better-auth\/(index|actions|outcome|user-hash|request-body|access)\.ts/],
  ["event → record (AuditLogger, attributes)", /\/src\/(emit|attributes|event|severity|uuid|report)\.ts/],
  ["redaction processor", /\/src\/processors\/(redaction|scope|record)\.ts|\/src\/attributes-flatten/],
  ["integrity processor (canonical form, HMAC, Merkle)", /\/src\/processors\/integrity\.ts|\/src\/chain\//],
  ["spool write (durable processor)", /\/src\/(exporters|durable)\//],
  ["store write (database exporter)", /\/src\/store\/|\/src\/better-auth\/store\.ts/],
  ["OTel SDK logs (LogRecord, processors loop)", /@opentelemetry\/sdk-logs\//],
];
export const OTHER = "better-auth, database, Request/Response (the bare request's work)";
export const GC = "garbage collection";

export function stageOf(url: string): string | undefined {
  for (const [stage, re] of STAGES) if (re.test(url)) return stage;
  return undefined;
}

/** Self time in µs per stage; `functions` (when given) gets it per function of the stage frame found. */
export function attribute(profile: Profile, functions?: Map<string, number>): Map<string, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const memo = new Map<number, string>();
  const fnMemo = new Map<number, string>();
  const functionFor = (id: number): string => {
    let cur: number | undefined = id;
    while (cur !== undefined) {
      const f = byId.get(cur)!.callFrame;
      if (stageOf(f.url)) {
        const leaf = byId.get(id)!.callFrame;
        const where = (c: ProfileNode["callFrame"]) => `${c.functionName || "(anonymous)"} ${c.url.replace(/^.*\/(src|node_modules)\//, "$1/")}`;
        return leaf === f ? where(f) : `${where(f)} > ${where(leaf)}`;
      }
      cur = parent.get(cur);
    }
    const f = byId.get(id)!.callFrame;
    return `[other] ${f.functionName || "(anonymous)"} ${f.url.replace(/^.*\/node_modules\//, "")}:${f.lineNumber + 1}`;
  };
  const stageFor = (id: number): string => {
    const seen: number[] = [];
    let cur: number | undefined = id;
    let found: string | undefined;
    while (cur !== undefined) {
      const known = memo.get(cur);
      if (known) {
        found = known;
        break;
      }
      seen.push(cur);
      const frame: ProfileNode["callFrame"] = byId.get(cur)!.callFrame;
      if (frame.functionName === "(garbage collector)") found = GC;
      else if (frame.functionName === "(idle)") found = "(idle)";
      else found = stageOf(frame.url);
      if (found) break;
      cur = parent.get(cur);
    }
    const stage = found ?? OTHER;
    for (const s of seen) memo.set(s, stage);
    return stage;
  };
  const out = new Map<string, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const stage = stageFor(profile.samples[i]);
    out.set(stage, (out.get(stage) ?? 0) + (profile.timeDeltas[i] ?? 0));
    if (functions && stage !== "(idle)") {
      const id = profile.samples[i];
      let fn = fnMemo.get(id);
      if (fn === undefined) fnMemo.set(id, (fn = functionFor(id)));
      functions.set(fn, (functions.get(fn) ?? 0) + (profile.timeDeltas[i] ?? 0));
    }
  }
  out.delete("(idle)");
  return out;
}

/** Runs `work` under the CPU profiler (sampling every `intervalUs`) and returns the stages' self time. */
export async function profileStages(work: () => Promise<void>, functions?: Map<string, number>, intervalUs = 50): Promise<Map<string, number>> {
  const session = new Session();
  session.connect();
  try {
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: intervalUs });
    await session.post("Profiler.start");
    await work();
    const { profile } = (await session.post("Profiler.stop")) as { profile: Profile };
    return attribute(profile, functions);
  } finally {
    session.disconnect();
  }
}
