import { diag } from "@opentelemetry/api";
import type { AuditLogger } from "../emit.js";
import type { AuditEvent } from "../event.js";
import { callSafely } from "../report.js";
import { FailureWindows } from "./failure-windows.js";
import { parseOptions } from "../options.js";
import { bruteForceOptionsSchema } from "../option-schemas.js";

/** What a window counts: one account from any IP, one IP against any account, or the pair. */
export type KeyKind = "account" | "ip" | "account_ip";

export interface Threshold {
  /** A signal is raised when failures inside the window exceed this. */
  max: number;
  windowMs: number;
}

export interface BruteForceSignal {
  kind: KeyKind;
  /** The account key (a hash, never the identifier) and/or the IP. */
  account?: string;
  ipAddress?: string;
  count: number;
  windowMs: number;
  firstSeen: Date;
  lastSeen: Date;
}

/** A counter shared by several app instances (Redis, the database): failures of `key` inside the window after adding one at `now`. */
export interface SharedFailureCounter {
  add(key: string, now: number, windowMs: number): Promise<number>;
}

export interface BruteForceOptions {
  /** Auth0-like defaults: > 10 failures for one account from one IP in 15 min. */
  accountIp?: Threshold | false;
  /** > 100 failed sign-ins from one IP in 24 h (Auth0's suspicious-IP throttling). */
  ip?: Threshold | false;
  /** > 20 failures for one account from any IPs in 1 h (a distributed attack on one account). */
  account?: Threshold | false;
  /** Keys tracked per kind at most; the least recently seen go first. Default 100,000. */
  maxKeys?: number;
  /** Called with every signal, for alerting. Errors go to `diag`. */
  onSuspected?: (signal: BruteForceSignal) => void | Promise<void>;
  /** Multi-instance apps: counts kept in a shared store instead of this process. */
  shared?: SharedFailureCounter;
  now?: () => number;
}

const DEFAULTS: Record<KeyKind, Threshold> = {
  account_ip: { max: 10, windowMs: 15 * 60_000 },
  ip: { max: 100, windowMs: 24 * 3_600_000 },
  account: { max: 20, windowMs: 3_600_000 },
};

/** Actions whose failure is a failed attempt to prove who someone is. */
const ATTEMPT = /^(sign-in|two-factor:verify|email-otp:verify|phone-number:verify|magic-link:verify|passkey:verify-authentication|callback:|rate-limited)/;

/**
 * A failed attempt the server observed. A client-reported event (`origin: "client"`, from
 * `POST /audit-log/insert`) never counts, whatever its action: a user must not be able to raise a
 * signal against someone else.
 */
export function isFailedAttempt(event: Pick<AuditEvent, "action" | "outcome" | "origin">): boolean {
  return event.outcome === "failure" && event.origin !== "client" && ATTEMPT.test(event.action);
}

/**
 * Keys are the account key (already a keyed hash of the identifier, or a user id) and the IP, which
 * the records carry anyway: nothing secret is held, so nothing is hashed again.
 */
const keyOf = (...parts: string[]): string => parts.join("\u0000");

/**
 * Brute-force and credential-stuffing signals from the audit stream of any adapter: sliding
 * windows per account, per IP and per account+IP; on a breach one `brute-force:suspected` record
 * (eventName `auth.brute_force.suspected`, critical), and no other for that key until its window
 * clears.
 */
export class BruteForceDetector {
  readonly #thresholds: Partial<Record<KeyKind, Threshold>> = {};
  readonly #windows: Partial<Record<KeyKind, FailureWindows>> = {};
  readonly #options: BruteForceOptions;
  readonly #now: () => number;

  constructor(options: BruteForceOptions = {}) {
    parseOptions("BruteForceDetector", bruteForceOptionsSchema, options);
    this.#options = options;
    this.#now = options.now ?? Date.now;
    const maxKeys = options.maxKeys ?? 100_000;
    for (const kind of ["account_ip", "ip", "account"] as const) {
      const chosen = options[kind === "account_ip" ? "accountIp" : kind];
      if (chosen === false) continue;
      const threshold = { ...DEFAULTS[kind], ...chosen };
      this.#thresholds[kind] = threshold;
      this.#windows[kind] = new FailureWindows(threshold.windowMs, threshold.max, maxKeys);
    }
  }

  /** Keys currently tracked, per kind (bounded by maxKeys). */
  trackedKeys(): Record<KeyKind, number> {
    return { account_ip: this.#windows.account_ip?.size ?? 0, ip: this.#windows.ip?.size ?? 0, account: this.#windows.account?.size ?? 0 };
  }

  /** Feeds one event; returns the signals it raised (in-process counting). */
  observe(event: AuditEvent): BruteForceSignal[] {
    if (!isFailedAttempt(event)) return [];
    const now = this.#now();
    const account = accountKeyOf(event);
    const ip = event.ipAddress;
    const signals: BruteForceSignal[] = [];
    const check = (kind: KeyKind, key: string, fields: Pick<BruteForceSignal, "account" | "ipAddress">) => {
      const windows = this.#windows[kind];
      const threshold = this.#thresholds[kind];
      if (!windows || !threshold) return;
      const state = windows.add(key, now);
      if (state.signalled || state.times.length <= threshold.max) return;
      state.signalled = true;
      signals.push({ kind, ...fields, count: state.times.length, windowMs: threshold.windowMs, firstSeen: new Date(state.firstSeen), lastSeen: new Date(now) });
    };
    if (account && ip) check("account_ip", keyOf(account, ip), { account, ipAddress: ip });
    if (ip) check("ip", ip, { ipAddress: ip });
    if (account) check("account", account, { account });
    return signals;
  }

  /**
   * Feeds one event to the shared counter. Only the add that crosses a threshold (count = max + 1)
   * raises the signal, so instances sharing one counter raise it once between them.
   */
  async observeShared(event: AuditEvent, shared: SharedFailureCounter): Promise<BruteForceSignal[]> {
    if (!isFailedAttempt(event)) return [];
    const now = this.#now();
    const account = accountKeyOf(event);
    const ip = event.ipAddress;
    const keys: Array<[KeyKind, string | undefined, Pick<BruteForceSignal, "account" | "ipAddress">]> = [
      ["account_ip", account && ip ? keyOf(account, ip) : undefined, { account, ipAddress: ip }],
      ["ip", ip, { ipAddress: ip }],
      ["account", account, { account }],
    ];
    const signals: BruteForceSignal[] = [];
    for (const [kind, key, fields] of keys) {
      const threshold = this.#thresholds[kind];
      if (!key || !threshold) continue;
      const count = await shared.add(`${kind}:${key}`, now, threshold.windowMs);
      if (count === threshold.max + 1) {
        signals.push({ kind, ...fields, count, windowMs: threshold.windowMs, firstSeen: new Date(now - threshold.windowMs), lastSeen: new Date(now) });
      }
    }
    return signals;
  }

  /** Listens to an AuditLogger: every failed attempt it emits is counted, every signal is emitted through it. */
  attach(logger: AuditLogger): () => void {
    const { shared } = this.#options;
    return logger.onEmitted((event) => {
      if (!shared) {
        for (const signal of this.observe(event)) this.#raise(logger, signal, event);
        return;
      }
      this.observeShared(event, shared).then(
        (signals) => signals.forEach((signal) => this.#raise(logger, signal, event)),
        (error: unknown) => diag.error("otel-auth-audit: the shared brute-force counter failed", error),
      );
    });
  }

  #raise(logger: AuditLogger, signal: BruteForceSignal, cause: AuditEvent): void {
    void logger.emit(
      logger.complete({
        action: "brute-force:suspected",
        outcome: "failure",
        severity: "critical",
        userId: signal.kind === "ip" ? undefined : (cause.userId ?? undefined),
        userHash: signal.kind === "ip" ? undefined : cause.userHash,
        ipAddress: signal.ipAddress,
        metadata: {
          brute_force: {
            kind: signal.kind,
            count: signal.count,
            window_seconds: signal.windowMs / 1000,
            first_seen: signal.firstSeen.toISOString(),
            last_seen: signal.lastSeen.toISOString(),
          },
        },
      }),
    );
    callSafely(this.#options.onSuspected, signal, "onSuspected");
  }
}

/** The account an attempt targeted: the keyed hash of the identifier it named, else the user id. */
function accountKeyOf(event: AuditEvent): string | undefined {
  return event.userHash ?? event.userId ?? undefined;
}
