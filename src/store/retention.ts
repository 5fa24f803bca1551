import { diag } from "@opentelemetry/api";
import * as z from "zod";
import { optionSchemas, parseOptions } from "../options.js";

const DAY_MS = 24 * 60 * 60 * 1000;
/** better-auth-audit-logs' default: one sweep a day at most. */
export const DEFAULT_RETENTION_INTERVAL_MS = 24 * 60 * 60 * 1000;

export interface RetentionOptions {
  /** Default true when `retention` is given. */
  enabled?: boolean;
  /** Records older than this many days are deleted. */
  days: number;
  /** How often a sweep may run: at most once per interval, on a timer and after writes. Default 24 hours. */
  intervalMs?: number;
}

export interface RetentionSweeperOptions extends RetentionOptions {
  /** Deletes every record created before `cutoff`; resolves to how many went. */
  deleteBefore: (cutoff: Date) => Promise<number>;
  /** The clock; tests pass a fake one. Default Date.now. */
  now?: () => number;
}

/** `retention`'s schema (the plugin's option and the sweeper's own). */
export const retentionShape = {
  enabled: z.boolean().optional(),
  days: z.number().positive().finite(),
  intervalMs: optionSchemas.positiveInt().max(2 ** 31 - 1).optional(),
};
export const retentionSchema = z.strictObject(retentionShape);
const sweeperSchema = z.strictObject({ ...retentionShape, deleteBefore: optionSchemas.fn(), now: optionSchemas.fn().optional() });

/**
 * Deletes records older than `days`: on an unref'd timer (never keeps the process alive) and
 * opportunistically after writes, at most once per interval however often it is asked.
 */
export class RetentionSweeper {
  readonly days: number;
  readonly intervalMs: number;
  #deleteBefore: RetentionSweeperOptions["deleteBefore"];
  #now: () => number;
  #lastRun = Number.NEGATIVE_INFINITY;
  #running: Promise<number> | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(options: RetentionSweeperOptions) {
    parseOptions("RetentionSweeper", sweeperSchema, options);
    this.days = options.days;
    this.intervalMs = options.intervalMs ?? DEFAULT_RETENTION_INTERVAL_MS;
    this.#deleteBefore = options.deleteBefore;
    this.#now = options.now ?? Date.now;
  }

  /** Starts the periodic sweep (idempotent). */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.maybeSweep(), this.intervalMs);
    this.#timer.unref?.();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Sweeps if the last sweep is at least one interval old; resolves to the rows deleted (0 when skipped). */
  maybeSweep(): Promise<number> {
    if (this.#running) return this.#running;
    if (this.#now() - this.#lastRun < this.intervalMs) return Promise.resolve(0);
    return this.sweep();
  }

  /** Sweeps now. Errors go to `diag`; the next interval tries again. */
  sweep(): Promise<number> {
    if (this.#running) return this.#running;
    const now = this.#now();
    this.#lastRun = now;
    const cutoff = new Date(now - this.days * DAY_MS);
    this.#running = this.#deleteBefore(cutoff)
      .catch((error: unknown) => {
        diag.error("otel-auth-audit: retention sweep failed", error);
        return 0;
      })
      .finally(() => {
        this.#running = undefined;
      });
    return this.#running;
  }
}
