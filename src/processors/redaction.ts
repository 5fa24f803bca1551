import { diag, type AnyValue } from "@opentelemetry/api";
import type { LogRecordProcessor, ReadWriteLogRecord } from "@opentelemetry/sdk-logs";
import { createHash, createHmac, type KeyObject } from "node:crypto";
import { jcs } from "../chain/canonical.js";
import { secretKey, type SecretInput } from "../chain/keys.js";
import { deleteAttribute } from "./record.js";
import { scopeFilter, type ScopeSelection } from "./scope.js";

/** `mask` → `[REDACTED]`; `hash` → `hmac-sha256:<hex>` (keyed) or `sha256:<hex>`; `remove` → the entry is deleted. */
export type RedactionStrategy = "mask" | "hash" | "remove";

/** A key name to redact, with its own strategy if it should differ from the default. */
export type RedactionKey = string | { key: string; strategy: RedactionStrategy };

export interface RedactionPattern {
  name: string;
  /** Matched in string values. A named group `secret` limits the redaction to that group (`Bearer [REDACTED]`). */
  regex: RegExp;
  /** Default: the processor's `strategy`. `remove` cuts the matched text out. */
  strategy?: RedactionStrategy;
  /** A further check of a match, e.g. the Luhn check of card numbers. */
  validate?: (match: string) => boolean;
  /** A cheap test a string must pass before the regex runs (e.g. contains "@"). */
  precheck?: (value: string) => boolean;
}

export interface RedactionOptions {
  /** Key names to redact; replaces DEFAULT_REDACT_KEYS. */
  keys?: RedactionKey[];
  /** Key names added to the list. */
  extraKeys?: RedactionKey[];
  /** Value patterns; replaces DEFAULT_REDACT_PATTERNS. */
  patterns?: RedactionPattern[];
  /** Patterns added to the list. */
  extraPatterns?: RedactionPattern[];
  /** Strategy of keys and patterns that name none. Default `mask`. */
  strategy?: RedactionStrategy;
  /** Strategy of the `email` pattern, e.g. `hash` to keep emails correlatable. */
  emailStrategy?: RedactionStrategy;
  /** HMAC key of the `hash` strategy; default env `OTEL_AUTH_AUDIT_REDACTION_KEY`. Without one, plain SHA-256 (guessable for emails). */
  hashKey?: SecretInput;
  /** `tagged` (`sha256:<hex>`, default) or `hex` (the 64 hex digits alone, as better-auth-audit-logs writes them). */
  hashFormat?: "tagged" | "hex";
  /** Replacement text of `mask`. Default `[REDACTED]`. */
  mask?: string;
  /** Instrumentation scopes to redact. Default `["otel-auth-audit"]`. */
  scopes?: ScopeSelection;
}

/**
 * Matched after normalising: case-insensitive, and `-`/`_` are ignored, so `access_token`,
 * `Access-Token` and `accessToken` are one key. Matching is exact per path segment (no substring
 * match: `tokenExpiresAt` and `keyboard` stay), and a dotted rule (`headers.authorization`)
 * matches the last segments of a path.
 */
export const DEFAULT_REDACT_KEYS: readonly string[] = Object.freeze([
  "password", "newPassword", "currentPassword", "oldPassword", "confirmPassword",
  "token", "accessToken", "refreshToken", "idToken", "sessionToken",
  "secret", "clientSecret", "apiKey", "x-api-key", "key", "privateKey",
  "otp", "code", "backupCode", "backupCodes", "totpURI", "totpSecret",
  "cookie", "set-cookie", "authorization", "proxy-authorization",
]);

const luhn = (match: string): boolean => {
  const digits = match.replace(/\D/g, "");
  if (digits.length < 13 || digits.length > 19) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
};

/** Mixed letters and digits: a long run of only letters or only digits is a word or a number, not a secret. */
const looksRandom = (match: string): boolean => /\d/.test(match) && /[a-zA-Z]/.test(match);

export const DEFAULT_REDACT_PATTERNS: readonly RedactionPattern[] = Object.freeze([
  { name: "email", regex: /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g, precheck: (s) => s.includes("@") },
  { name: "bearer", regex: /\b(?:Bearer|Basic)\s+(?<secret>[A-Za-z0-9._~+/-]+=*)/gi, precheck: (s) => /earer|asic/i.test(s) },
  { name: "jwt", regex: /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, precheck: (s) => s.includes("eyJ") },
  { name: "hex-secret", regex: /\b[0-9a-fA-F]{32,}\b/g, validate: looksRandom, precheck: (s) => s.length >= 32 },
  {
    name: "base64-secret",
    regex: /(?<![A-Za-z0-9+_-])[A-Za-z0-9+_-]{40,}={0,2}/g,
    validate: (m) => looksRandom(m) && /[a-z]/.test(m) && /[A-Z]/.test(m),
    precheck: (s) => s.length >= 40,
  },
  { name: "card", regex: /\b\d(?:[ -]?\d){12,18}\b/g, validate: luhn, precheck: (s) => s.length >= 13 && /\d{4}/.test(s) },
]);

/**
 * Attributes this package writes for its own structure: never redacted by key, nor by pattern
 * (ids and hashes are hex and would look like secrets). `url.path` and `user_agent.original`
 * are not redacted by key either, but patterns apply to them (a reset token can sit in a path).
 */
const STRUCTURAL = new Set([
  "user.id", "user.hash", "session.id", "client.address", "error.type", "http.request.method", "http.response.status_code", "event.name",
]);
const PATTERNS_ONLY = new Set(["url.path", "user_agent.original"]);
const METADATA_PREFIX = "audit.metadata.";
/** Not even an explicit rule may touch these: the chain and the record's identity. */
const UNTOUCHABLE = /^audit\.(chain|checkpoint)\.|^audit\.id$/;

const REMOVED: unique symbol = Symbol("removed");
/** An attribute's normalised path, and the strategy when its name itself matches a rule. */
type AttributePlan = { path: string[]; strategy?: RedactionStrategy } | typeof SKIP;
const SKIP: unique symbol = Symbol("skip");
type Redacted = AnyValue | typeof REMOVED;

interface CompiledPattern {
  precheck?: (value: string) => boolean;
  regex: RegExp;
  strategy: RedactionStrategy;
  validate?: (match: string) => boolean;
  group: boolean;
}

let warnedUnkeyedHash = false;

/**
 * Redacts secrets and PII from audit records before anything exports them: key names at any depth
 * of body and attributes (flattened `audit.metadata.*` keys and JSON-string values included) and
 * value patterns (emails, bearer tokens, JWTs, long hex/base64 secrets, Luhn-valid card numbers).
 * Rules are compiled once here. Place it first: a processor before it sees the unredacted record.
 */
export class RedactionProcessor implements LogRecordProcessor {
  #inScope: (name: string) => boolean;
  /** Normalised last segment → the rules ending in it (their earlier segments, and strategy). */
  #keyRules = new Map<string, Array<{ before: string[]; strategy: RedactionStrategy }>>();
  /** Attribute names named in full by a rule (e.g. `client.address`): an explicit opt-in for structural ones. */
  #explicit = new Map<string, RedactionStrategy>();
  #patterns: CompiledPattern[];
  #strategy: RedactionStrategy;
  #mask: string;
  #hashKey: KeyObject | undefined;
  #hashTagged: boolean;
  #normCache = new Map<string, string>();
  #plans = new Map<string, AttributePlan>();

  constructor(options: RedactionOptions = {}) {
    this.#inScope = scopeFilter(options.scopes);
    this.#strategy = options.strategy ?? "mask";
    this.#mask = options.mask ?? "[REDACTED]";
    this.#hashTagged = options.hashFormat !== "hex";
    this.#hashKey = secretKey(options.hashKey ?? process.env.OTEL_AUTH_AUDIT_REDACTION_KEY);
    for (const rule of [...(options.keys ?? DEFAULT_REDACT_KEYS), ...(options.extraKeys ?? [])]) {
      const { key, strategy } = typeof rule === "string" ? { key: rule, strategy: this.#strategy } : rule;
      if (STRUCTURAL.has(key) || PATTERNS_ONLY.has(key)) {
        this.#explicit.set(key, strategy);
        continue;
      }
      const segments = key.split(".").map((s) => this.#norm(s));
      const last = segments.pop()!;
      const list = this.#keyRules.get(last) ?? [];
      list.push({ before: segments, strategy });
      this.#keyRules.set(last, list);
    }
    this.#patterns = [...(options.patterns ?? DEFAULT_REDACT_PATTERNS), ...(options.extraPatterns ?? [])].map((p) => {
      const group = p.regex.source.includes("(?<secret>");
      let flags = p.regex.flags;
      if (!flags.includes("g")) flags += "g";
      if (group && !flags.includes("d")) flags += "d";
      const strategy = (p.name === "email" ? options.emailStrategy : undefined) ?? p.strategy ?? this.#strategy;
      return { regex: new RegExp(p.regex.source, flags), strategy, validate: p.validate, precheck: p.precheck, group };
    });
    const usesHash =
      [...this.#keyRules.values()].some((l) => l.some((r) => r.strategy === "hash")) ||
      [...this.#explicit.values()].includes("hash") ||
      this.#patterns.some((p) => p.strategy === "hash");
    if (usesHash && !this.#hashKey && !warnedUnkeyedHash) {
      warnedUnkeyedHash = true;
      diag.warn(
        "otel-auth-audit: RedactionProcessor hashes without a key (option `hashKey` or OTEL_AUTH_AUDIT_REDACTION_KEY): " +
          "plain SHA-256 of an email can be reversed by guessing; set a key",
      );
    }
  }

  onEmit(record: ReadWriteLogRecord): void {
    if (!this.#inScope(record.instrumentationScope.name)) return;
    try {
      this.#redactAttributes(record);
      const body = record.body;
      if (body !== undefined && body !== null) {
        const redacted = this.#value(body, []);
        if (redacted !== body) record.setBody(redacted === REMOVED ? (undefined as unknown as AnyValue) : redacted);
      }
    } catch (error) {
      // never let a record through half-checked: mask what we could not read
      diag.error("otel-auth-audit: RedactionProcessor failed on a record; its body is masked", error);
      record.setBody(this.#mask);
    }
  }

  /** Redacts one value as if it sat under `path` (dotted key names); for tests and for readers of stored data. */
  redactValue(value: AnyValue, path = ""): AnyValue | undefined {
    const segments = path ? path.split(".").map((s) => this.#norm(s)) : [];
    const out = segments.length > 0 && this.#keyMatch(segments) ? this.#apply(value, this.#keyMatch(segments)!) : this.#value(value, segments);
    return out === REMOVED ? undefined : out;
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }

  #redactAttributes(record: ReadWriteLogRecord): void {
    const attrs = record.attributes as Record<string, AnyValue>;
    for (const name of Object.keys(attrs)) {
      const plan = this.#planFor(name);
      if (plan === SKIP) continue;
      const value = attrs[name];
      const out = plan.strategy ? this.#apply(value, plan.strategy) : this.#value(value, plan.path.slice());
      if (out === value) continue;
      if (out === REMOVED) deleteAttribute(record, name);
      else attrs[name] = out;
    }
  }

  /** What to do with an attribute of this name: worked out once per name. */
  #planFor(name: string): AttributePlan {
    let plan = this.#plans.get(name);
    if (plan) return plan;
    const explicit = this.#explicit.get(name);
    if (explicit) plan = { path: [], strategy: explicit };
    else if (name.startsWith(METADATA_PREFIX)) plan = this.#dottedPlan(name.slice(METADATA_PREFIX.length));
    else if (name.startsWith("audit.") || STRUCTURAL.has(name) || UNTOUCHABLE.test(name)) plan = SKIP;
    else if (PATTERNS_ONLY.has(name)) plan = { path: [] };
    else plan = this.#dottedPlan(name);
    if (this.#plans.size > 10_000) this.#plans.clear();
    this.#plans.set(name, plan);
    return plan;
  }

  /** A dotted attribute name: its segments are the path of its value. */
  #dottedPlan(dotted: string): AttributePlan {
    const path = dotted.split(".").map((s) => this.#norm(s));
    return { path, strategy: this.#keyMatch(path) };
  }

  #keyMatch(path: string[]): RedactionStrategy | undefined {
    const rules = this.#keyRules.get(path[path.length - 1]);
    if (!rules) return undefined;
    for (const rule of rules) {
      const n = rule.before.length;
      if (n === 0) return rule.strategy;
      if (path.length - 1 < n) continue;
      let ok = true;
      for (let i = 0; i < n && ok; i++) ok = path[path.length - 1 - n + i] === rule.before[i];
      if (ok) return rule.strategy;
    }
    return undefined;
  }

  /** Redacts inside a value: map keys by rule, strings by pattern, JSON strings parsed. Same reference when nothing changed. */
  #value(value: AnyValue, path: string[]): Redacted {
    if (typeof value === "string") return this.#string(value, path);
    if (value === null || typeof value !== "object" || value instanceof Uint8Array) return value;
    if (Array.isArray(value)) {
      let out: AnyValue[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const r = this.#value(value[i], path);
        if (r !== value[i]) {
          out ??= value.slice(0, i);
          if (r !== REMOVED) out.push(r);
        } else if (out) out.push(value[i]);
      }
      return out ?? value;
    }
    const map = value as Record<string, AnyValue>;
    let out: Record<string, AnyValue> | undefined;
    for (const k of Object.keys(map)) {
      path.push(this.#norm(k));
      const strategy = this.#keyMatch(path);
      const r = strategy ? this.#apply(map[k], strategy) : this.#value(map[k], path);
      path.pop();
      if (r === map[k]) continue;
      out ??= { ...map };
      if (r === REMOVED) delete out[k];
      else out[k] = r;
    }
    return out ?? value;
  }

  #string(s: string, path: string[]): Redacted {
    const c = s.charCodeAt(0);
    if ((c === 123 /* { */ || c === 91) /* [ */ && s.length > 1) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(s);
      } catch {
        parsed = undefined;
      }
      if (parsed !== null && typeof parsed === "object") {
        const r = this.#value(parsed as AnyValue, path);
        return r === parsed ? s : JSON.stringify(r === REMOVED ? null : r);
      }
    }
    return this.#patternsIn(s);
  }

  #patternsIn(s: string): string {
    if (s.length < 6) return s;
    let spans: Array<[number, number, RedactionStrategy]> | undefined;
    for (const p of this.#patterns) {
      if (p.precheck && !p.precheck(s)) continue;
      p.regex.lastIndex = 0;
      let m: RegExpExecArray | null;
      while ((m = p.regex.exec(s)) !== null) {
        if (m[0] === "") {
          p.regex.lastIndex++;
          continue;
        }
        if (p.validate && !p.validate(m[0])) continue;
        let start = m.index;
        let end = m.index + m[0].length;
        const g = p.group ? m.indices?.groups?.secret : undefined;
        if (g) [start, end] = g;
        (spans ??= []).push([start, end, p.strategy]);
      }
    }
    if (!spans) return s;
    spans.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
    let out = "";
    let at = 0;
    for (const [start, end, strategy] of spans) {
      if (start < at) continue; // overlaps an earlier match: the earlier (longer) one wins
      out += s.slice(at, start) + this.#replacement(s.slice(start, end), strategy);
      at = end;
    }
    return out + s.slice(at);
  }

  #replacement(text: string, strategy: RedactionStrategy): string {
    if (strategy === "remove") return "";
    if (strategy === "hash") return this.#hash(text);
    return this.#mask;
  }

  /** A whole value under a matching key. */
  #apply(value: AnyValue, strategy: RedactionStrategy): Redacted {
    if (strategy === "remove") return REMOVED;
    if (strategy === "hash") return this.#hash(typeof value === "string" ? value : jcs(value));
    return this.#mask;
  }

  #hash(text: string): string {
    if (this.#hashKey) return (this.#hashTagged ? "hmac-sha256:" : "") + createHmac("sha256", this.#hashKey).update(text).digest("hex");
    return (this.#hashTagged ? "sha256:" : "") + createHash("sha256").update(text).digest("hex");
  }

  #norm(segment: string): string {
    let n = this.#normCache.get(segment);
    if (n === undefined) {
      n = segment.toLowerCase().replace(/[-_]/g, "");
      if (this.#normCache.size < 10_000) this.#normCache.set(segment, n);
    }
    return n;
  }
}

/** better-auth-audit-logs' `piiRedaction` option: `{ enabled, strategy, fields }`. */
export interface PiiRedactionConfig {
  enabled?: boolean;
  strategy?: RedactionStrategy;
  /** Field names to redact besides the secrets (which are always masked), e.g. `["email", "ipAddress"]`. */
  fields?: string[];
}

/** AuditEvent field names of the seed plugin → our attribute names. */
const FIELD_ATTRIBUTE: Record<string, string> = { ipAddress: "client.address", userAgent: "user_agent.original" };

/**
 * RedactionProcessor options from better-auth-audit-logs' `piiRedaction`, so users can move over:
 * the chosen strategy applies to the default secret keys and the named fields alike (emails too, by
 * pattern), hashes as 64 hex digits; disabled, the default secret keys are still masked.
 */
export function piiRedactionToOptions(config: PiiRedactionConfig = {}): RedactionOptions {
  if (!config.enabled) return {};
  const strategy = config.strategy ?? "mask";
  const fields = config.fields ?? [];
  return {
    strategy,
    extraKeys: fields.map((f) => ({ key: FIELD_ATTRIBUTE[f] ?? f, strategy })),
    emailStrategy: strategy,
    hashFormat: "hex",
  };
}
