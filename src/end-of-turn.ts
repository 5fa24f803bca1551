import { diag } from "@opentelemetry/api";

/**
 * Work the audit processors take out of onEmit: the hash chain (`"chain"`) and the spool write
 * (`"write"`), done once for every record emitted since the last run, in emit order, chain before
 * write whichever processor registered first. It runs when the event loop turns (setImmediate),
 * after the emitting request has gone on, or at the end of the current task (a microtask) when a
 * task asks for it (`soon`: a processor after the chain reads records after a microtask, as the
 * SDK's Batch processor does). `settleTurn()` runs it now: forceFlush, shutdown, checkpoints and the
 * process's `exit` (an uncaught exception included) call it. What a SIGKILL between an emit and the
 * next turn loses is that turn's records; docs/durable.md says so.
 */
export type TurnPhase = "chain" | "write";

/**
 * A processor that has this many records waiting settles the turn at once: a loop that emits a
 * million records in one task must not hold them all in memory (the turn never ends for it).
 */
export const MAX_PENDING_RECORDS = 4096;

const phases: Record<TurnPhase, Array<() => void>> = { chain: [], write: [] };
let immediate: NodeJS.Immediate | undefined;
let microtask = false;
let settling = false;
let exitHooked = false;
/** The resolve functions of the promises afterTurn handed out, and the value each resolves to. */
let waiters: Array<(value: never) => void> = [];
let values: unknown[] = [];

export function atEndOfTurn(phase: TurnPhase, task: () => void, soon = false): void {
  phases[phase].push(task);
  if (!exitHooked) {
    exitHooked = true;
    process.on("exit", settleTurn);
  }
  if (soon && !microtask) {
    microtask = true;
    queueMicrotask(settleTurn);
  }
  immediate ??= setImmediate(settleTurn);
}

/** Runs every deferred task now, chain before write; a task that emits more records gets them settled too. */
export function settleTurn(): void {
  if (settling) return; // a task that emits a record lands here; the loop below picks it up
  microtask = false;
  if (immediate) clearImmediate(immediate);
  immediate = undefined;
  settling = true;
  try {
    while (phases.chain.length > 0 || phases.write.length > 0) {
      runAll(phases.chain);
      runAll(phases.write);
    }
  } finally {
    settling = false;
  }
  const done = waiters;
  const results = values;
  waiters = [];
  values = [];
  for (let i = 0; i < done.length; i++) done[i]!(results[i] as never);
}

/**
 * `value`, once the work deferred so far is done: `await audit.record()` resolves after its
 * record is chained and in the spool (in the kernel), as it did when onEmit wrote it.
 */
export function afterTurn<T>(value: T): Promise<T> {
  if (phases.chain.length === 0 && phases.write.length === 0) return Promise.resolve(value);
  // one promise and its resolve function per record: no closures of its own (a turn can hold thousands)
  const promise = new Promise<T>(capture);
  waiters.push(captured!);
  values.push(value);
  return promise;
}

let captured: ((value: never) => void) | undefined;
/** The executor of afterTurn's promises: hands the resolve function out synchronously. */
function capture(resolve: (value: never) => void): void {
  captured = resolve;
}

function runAll(tasks: Array<() => void>): void {
  while (tasks.length > 0) {
    for (const task of tasks.splice(0)) {
      try {
        task();
      } catch (error) {
        diag.error("otel-auth-audit: deferred audit work failed", error);
      }
    }
  }
}
