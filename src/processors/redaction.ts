import { diag, type AnyValue } from "@opentelemetry/api";
import { foldLookalikes } from "../lookalikes.js";
import type { LogRecordProcessor, ReadWriteLogRecord } from "@opentelemetry/sdk-logs";
import { createHash, createHmac, type KeyObject } from "node:crypto";
import { isIP } from "node:net";
import * as z from "zod";
import { eventNameFor } from "../attributes.js";
import { jcs } from "../chain/canonical.js";
import { boundedErrorCode, UNRECOGNISED_ERROR } from "../error-code.js";
import { secretKey, type SecretInput } from "../chain/keys.js";
import { optionSchemas, parseOptions } from "../options.js";
import { scopesSchema, secretSchema } from "../option-schemas.js";
import { bareObject } from "../safe-keys.js";
import { base64Matcher, bearerMatcher, candidates, cardMatcher, emailMatcher, hexMatcher, jwtMatcher, PAIRS, pairSpans, RUN_BITS, SCANNER_BITS, type Matcher, type Span } from "./matchers.js";
import { deleteAttribute } from "./record.js";
import { scopeFilter, type ScopeSelection } from "./scope.js";

/** `mask` → `[REDACTED]`; `hash` → `hmac-sha256:<hex>` (keyed) or `sha256:<hex>`; `remove` → the entry is deleted. */
export type RedactionStrategy = "mask" | "hash" | "remove";

/** A key name to redact, with its own strategy if it should differ from the default. */
export type RedactionKey = string | { key: string; strategy: RedactionStrategy };

export interface RedactionPattern {
  name: string;
  /**
   * Matched in string values. A named group `secret` limits the redaction to that group (`Bearer [REDACTED]`).
   * Give an expression without nested or adjacent overlapping quantifiers: it runs on values a caller
   * chose, at most `limits.maxStringLength` characters long.
   */
  regex?: RegExp;
  /** Instead of `regex`: a function returning the `[start, end)` spans to redact; it must run in linear time. */
  match?: (value: string) => Array<[number, number]>;
  /** Default: the processor's `strategy`. `remove` cuts the matched text out. */
  strategy?: RedactionStrategy;
  /** A further check of a match, e.g. the Luhn check of card numbers. */
  validate?: (match: string) => boolean;
  /** A cheap test a string must pass before the pattern runs (e.g. contains "@"). */
  precheck?: (value: string) => boolean;
}

/** Bounds of the work done on one record; past any of them the whole record is redacted (fail closed). */
export interface RedactionLimits {
  /** Nesting of maps, lists and JSON text inside one value. Default 32. */
  maxDepth?: number;
  /** Map entries and list items visited per record. Default 10,000. */
  maxNodes?: number;
  /** A longer string value is masked whole, unread. Default 32 KiB (characters). */
  maxStringLength?: number;
  /** Characters read per record, all values together. Default 512 Ki. */
  maxTotalLength?: number;
}

export interface RedactionOptions {
  /** Key names to redact; replaces DEFAULT_REDACT_KEYS (at least one: use `extraKeys` to add). */
  keys?: RedactionKey[];
  /** Key names added to the list. */
  extraKeys?: RedactionKey[];
  /** Value patterns; replaces DEFAULT_REDACT_PATTERNS (at least one: use `extraPatterns` to add). */
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
  /** Instrumentation scopes to redact: `"all"` or a non-empty list of names. Default `["otel-auth-audit"]`. */
  scopes?: ScopeSelection;
  /** Work bounds per record; see RedactionLimits. */
  limits?: RedactionLimits;
}

const strategySchema = z.enum(["mask", "hash", "remove"]);
const keySchema = z.union([z.string().min(1), z.strictObject({ key: z.string().min(1), strategy: strategySchema })]);
const patternSchema = z
  .strictObject({
    name: z.string().min(1),
    regex: z.instanceof(RegExp).optional(),
    match: optionSchemas.fn().optional(),
    strategy: strategySchema.optional(),
    validate: optionSchemas.fn().optional(),
    precheck: optionSchemas.fn().optional(),
  })
  .refine((p) => (p.regex === undefined) !== (p.match === undefined), { message: "give exactly one of regex or match" });
export const redactionOptionsSchema = z.strictObject({
  keys: z.array(keySchema).min(1).optional(),
  extraKeys: z.array(keySchema).optional(),
  patterns: z.array(patternSchema).min(1).optional(),
  extraPatterns: z.array(patternSchema).optional(),
  strategy: strategySchema.optional(),
  emailStrategy: strategySchema.optional(),
  hashKey: secretSchema.optional(),
  hashFormat: z.enum(["tagged", "hex"]).optional(),
  mask: z.string().max(256).optional(),
  scopes: scopesSchema.optional(),
  limits: z
    .strictObject({
      maxDepth: optionSchemas.positiveInt().optional(),
      maxNodes: optionSchemas.positiveInt().optional(),
      maxStringLength: optionSchemas.positiveInt().optional(),
      maxTotalLength: optionSchemas.positiveInt().optional(),
    })
    .optional(),
});

/**
 * Matched after normalising: NFKC, case-insensitive, and `-`/`_` are ignored, so `access_token`,
 * `Access-Token` and `accessToken` are one key. Matching is exact per path segment (no substring
 * match: `tokenExpiresAt` and `keyboard` stay), and a dotted rule (`headers.authorization`)
 * matches the last segments of a path. Keys are matched in maps, in JSON text, and as the names
 * of `name=value` pairs in URLs, form bodies and free text.
 */
export const DEFAULT_REDACT_KEYS: readonly string[] = Object.freeze([
  "password", "newPassword", "currentPassword", "oldPassword", "confirmPassword", "passwd", "pwd", "passphrase",
  "token", "accessToken", "refreshToken", "idToken", "sessionToken", "csrfToken",
  "secret", "clientSecret", "apiKey", "x-api-key", "key", "privateKey", "credential", "credentials",
  "otp", "code", "codeVerifier", "backupCode", "backupCodes", "totpURI", "totpSecret",
  "cookie", "set-cookie", "authorization", "proxy-authorization",
]);

const check = (match: Matcher) => match;
/** Every spelling of an "at" the e-mail matcher knows (see atLength in matchers.ts). */
const AT_SPELLINGS = ["@", "%40", "%2540", "\uff20", "\ufe6b"];
const emailPrecheck = (s: string): boolean => AT_SPELLINGS.some((at) => s.includes(at)) || /\\u0040|&#(?:64|x40);|&commat;/i.test(s);

export const DEFAULT_REDACT_PATTERNS: readonly RedactionPattern[] = Object.freeze([
  { name: "email", match: check(emailMatcher), precheck: emailPrecheck },
  { name: "bearer", match: check(bearerMatcher), precheck: (s) => /bearer|basic/i.test(s) },
  { name: "jwt", match: check(jwtMatcher), precheck: (s) => s.includes("eyJ") },
  { name: "hex-secret", match: check(hexMatcher), precheck: (s) => s.length >= 32 },
  { name: "base64-secret", match: check(base64Matcher), precheck: (s) => s.length >= 40 },
  { name: "card", match: check(cardMatcher), precheck: (s) => s.length >= 13 },
]);

/**
 * Attributes this package writes for its own structure: never redacted by key, nor by pattern
 * (ids and hashes are hex and would look like secrets). `url.path`, `http.route`, `audit.action`
 * and `user_agent.original` are not redacted by key either, but patterns apply to them.
 */
const STRUCTURAL = new Set([
  "user.id", "user.hash", "session.id", "client.address", "error.type", "http.request.method", "http.response.status_code", "event.name",
]);
/**
 * Structural attributes a caller can still fill (`audit.record({ error, userId, ipAddress, method })`,
 * a beforeLog, an adapter handed app text): each is kept only in its expected shape. A method or
 * error code of another shape becomes `_OTHER` (as the HTTP semantic conventions spell an unknown
 * value; an error that is no code becomes UNRECOGNISED_ERROR, its text stays in the redacted body); an id or address gets the value
 * patterns that cannot mistake an id for a secret (e-mails, bearer credentials, JWTs, `name=value`).
 */
const SHAPED = new Set(["http.request.method", "error.type", "client.address", "user.id", "user.hash", "session.id", "audit.actor.id"]);
const METHOD_SHAPE = /^[A-Za-z]{1,32}$/;
/** Patterns that would take an id or a hash for a secret: not run on ids. */
const ID_LOOKALIKE_PATTERNS = new Set(["hex-secret", "base64-secret", "card"]);
/** An HTTP method of no method's shape, spelt as the HTTP semantic conventions spell an unknown one. */
const OTHER_VALUE = "_OTHER";
const PATTERNS_ONLY = new Set(["url.path", "http.route", "user_agent.original", "audit.action"]);
const METADATA_PREFIX = "audit.metadata.";
/** Not even an explicit rule may touch these: the chain and the record's identity. */
const UNTOUCHABLE = /^audit\.(chain|checkpoint)\.|^audit\.id$/;
/**
 * What a failed redaction keeps besides the structural attributes: values this package makes from
 * closed sets (ids, enums, counts). Everything else is masked; `audit.redaction.failed` says why.
 */
const KEPT_ON_FAILURE = new Set([
  "audit.id", "audit.outcome", "audit.severity", "audit.origin", "http.response.status_code", "audit.metadata_dropped", "audit.before_log.error",
]);
/** On a failed record, kept when short and clean (the alert rules and dashboards group by them). */
const KEPT_IF_CLEAN = new Set(["audit.action", "http.route", "url.path"]);
/** Set on a record redaction could not finish: `depth`, `nodes`, `size` or `error`. Every other value of it is masked. */
export const REDACTION_FAILED_ATTR = "audit.redaction.failed";

const REMOVED: unique symbol = Symbol("removed");
/** The path of the body: no key above it. */
const NO_PATH: readonly string[] = Object.freeze([]);
/** An attribute's normalised path, and the strategy when its name itself matches a rule. */
type AttributePlan = { path: string[]; strategy?: RedactionStrategy; action?: boolean } | typeof SKIP | typeof DROP | typeof SHAPE;
const SKIP: unique symbol = Symbol("skip");
/** A structural attribute kept only in its shape (SHAPED). */
const SHAPE: unique symbol = Symbol("shape");
/** An attribute whose very name carries a secret (a key a caller chose): removed. */
const DROP: unique symbol = Symbol("drop");
type Redacted = AnyValue | typeof REMOVED;

interface CompiledPattern {
  name: string;
  precheck?: (value: string) => boolean;
  find: Matcher;
  strategy: RedactionStrategy;
  /** A default scanner's bit of `candidates` (skipped when clear); 0 for a caller's pattern, which always runs. */
  bit: number;
}

/** A map or list being walked. */
interface Frame {
  src: AnyValue[] | Record<string, AnyValue>;
  keys: string[] | undefined;
  /** the next entry */
  i: number;
  /** the redacted copy, made at the first change: until then the source is the result */
  out: AnyValue[] | Record<string, AnyValue> | undefined;
  /** path length while this frame's entries are visited */
  at: number;
}

/** The frame's copy, made on first need with the entries before the current one (all unchanged). */
function copyOf(f: Frame): AnyValue[] | Record<string, AnyValue> {
  if (f.out) return f.out;
  const before = f.i - 1;
  if (f.keys) {
    const out = bareObject<AnyValue>();
    for (let j = 0; j < before; j++) out[f.keys[j]!] = (f.src as Record<string, AnyValue>)[f.keys[j]!];
    f.out = out;
  } else {
    const out: AnyValue[] = [];
    for (let j = 0; j < before; j++) out.push((f.src as AnyValue[])[j]);
    f.out = out;
  }
  return f.out;
}

/** See #keyFacts. */
interface KeyFacts {
  norm: string;
  secret: boolean;
  bracket: boolean;
}

/** Thrown inside a record's redaction when a bound is passed; caught in onEmit, which fails closed. */
class RedactionLimitError extends Error {
  constructor(readonly reason: "depth" | "nodes" | "size") {
    super(`redaction bound passed: ${reason}`);
  }
}

/** The work done so far on one record. */
interface Budget {
  nodes: number;
  chars: number;
}

/** JSON text nested in JSON text (double encoding) is decoded this many times, no more. */
const MAX_DECODE = 4;
let warnedUnkeyedHash = false;

/**
 * Redacts secrets and PII from audit records before anything exports them: key names at any depth
 * of body and attributes (flattened `audit.metadata.*` keys, JSON text — with leading whitespace or
 * encoded twice —, `name=value` pairs of URLs, form bodies and free text) and value patterns
 * (e-mails in many spellings, bearer credentials, JWTs, long hex/base64 secrets, Luhn-valid card
 * numbers), each a linear-time scanner. Rules are compiled once here. The walk is iterative and
 * bounded (`limits`); a record it cannot finish is redacted whole (fail closed) and marked
 * `audit.redaction.failed`. Place it first: a processor before it sees the unredacted record.
 */
export class RedactionProcessor implements LogRecordProcessor {
  #inScope: (name: string) => boolean;
  /** Normalised last segment → the rules ending in it (their earlier segments, and strategy). */
  #keyRules = new Map<string, Array<{ before: string[]; strategy: RedactionStrategy }>>();
  /** Attribute names named in full by a rule (e.g. `client.address`): an explicit opt-in for structural ones. */
  #explicit = new Map<string, RedactionStrategy>();
  #patterns: CompiledPattern[];
  /** Whether a caller's pattern is among them: those run on every value, `candidates` knows nothing of them. */
  #callerPatterns: boolean;
  /** Whether every pattern with a run scanner (hex, base64, card) is one ids skip (ID_LOOKALIKE_PATTERNS). */
  #idsSkipRuns: boolean;
  #strategy: RedactionStrategy;
  #mask: string;
  #hashKey: KeyObject | undefined;
  #limits: Required<RedactionLimits>;
  #hashTagged: boolean;
  #normCache = new Map<string, string>();
  /** `name=value` names seen, and whether they match a rule: names repeat, decoding them does not need to. */
  #pairNames = new Map<string, RedactionStrategy | null>();
  #plans = new Map<string, AttributePlan>();
  /** Map keys seen in values (bounded: emptied when full, so a stream of new keys cannot grow it). */
  #keys = new Map<string, KeyFacts>();
  /**
   * Values found clean before (as text, and as ids): clean again, unread. Only while every pattern
   * is a default scanner with a default precheck, a pure function of the text; a caller's may change its mind.
   */
  #clean: Set<string> | undefined;
  #cleanIds: Set<string> | undefined;
  /** Error codes kept as they are (`error.type`), on the same terms. */
  #codes: Set<string> | undefined;
  /** #pairNameMatch as a function for pairSpans, made once. */
  #pairRule = (raw: string): RedactionStrategy | undefined => this.#pairNameMatch(raw);

  constructor(options: RedactionOptions = {}) {
    const o = parseOptions("RedactionProcessor", redactionOptionsSchema, options) as RedactionOptions;
    this.#inScope = scopeFilter(o.scopes);
    this.#strategy = o.strategy ?? "mask";
    this.#mask = o.mask ?? "[REDACTED]";
    this.#hashTagged = o.hashFormat !== "hex";
    this.#hashKey = secretKey(o.hashKey ?? process.env.OTEL_AUTH_AUDIT_REDACTION_KEY);
    this.#limits = { maxDepth: 32, maxNodes: 10_000, maxStringLength: 32 * 1024, maxTotalLength: 512 * 1024, ...o.limits };
    for (const rule of [...(o.keys ?? DEFAULT_REDACT_KEYS), ...(o.extraKeys ?? [])]) {
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
    this.#patterns = [...(o.patterns ?? DEFAULT_REDACT_PATTERNS), ...(o.extraPatterns ?? [])].map((p) => ({
      name: p.name,
      find: p.match ? userMatcher(p.match) : regexMatcher(p.regex!, p.validate),
      strategy: (p.name === "email" ? o.emailStrategy : undefined) ?? p.strategy ?? this.#strategy,
      precheck: p.precheck,
      bit: (p.match && SCANNER_BITS.get(p.match)) || 0,
    }));
    this.#callerPatterns = this.#patterns.some((p) => p.bit === 0);
    const defaultPrechecks = new Set(DEFAULT_REDACT_PATTERNS.map((p) => p.precheck));
    const pure = this.#patterns.every((p) => p.bit !== 0 && (p.precheck === undefined || defaultPrechecks.has(p.precheck)));
    if (pure) {
      this.#clean = new Set();
      this.#cleanIds = new Set();
      this.#codes = new Set();
    }
    this.#idsSkipRuns = this.#patterns.every((p) => (p.bit & RUN_BITS) === 0 || ID_LOOKALIKE_PATTERNS.has(p.name));
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
    const budget: Budget = { nodes: 0, chars: 0 };
    try {
      this.#redactAttributes(record, budget);
      const body = record.body;
      if (body !== undefined && body !== null) {
        const redacted = this.#walk(body, NO_PATH, budget, 0);
        if (redacted !== body) record.setBody(redacted === REMOVED ? (undefined as unknown as AnyValue) : redacted);
      }
    } catch (error) {
      const reason = error instanceof RedactionLimitError ? error.reason : "error";
      if (reason === "error") diag.error("otel-auth-audit: RedactionProcessor failed on a record; the whole record is masked", error);
      else diag.warn(`otel-auth-audit: a record passed a redaction bound (${reason}); the whole record is masked`);
      this.#failClosed(record, reason);
    }
  }

  /** Redacts one value as if it sat under `path` (dotted key names); for tests and for readers of stored data. Throws past a bound. */
  redactValue(value: AnyValue, path = ""): AnyValue | undefined {
    const segments = path ? path.split(".").map((s) => this.#norm(s)) : [];
    const strategy = segments.length > 0 ? this.#keyMatch(segments) : undefined;
    const out = strategy ? this.#apply(value, strategy) : this.#walk(value, segments, { nodes: 0, chars: 0 }, 0);
    return out === REMOVED ? undefined : out;
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * Nothing that redaction would have read leaves unread: every metadata attribute is removed,
   * every other value masked, the body masked. What stays is what redaction never reads anyway
   * (ids, enums, counts, the validated client address, the error code) and a short action, route
   * or path that the patterns find clean — so the record still counts for the alert rules and a
   * crafted value cannot hide an attacker's failures behind `auth.redaction_failed`.
   */
  #failClosed(record: ReadWriteLogRecord, reason: string): void {
    try {
      const attrs = record.attributes as Record<string, AnyValue>;
      let actionMasked = false;
      for (const name of Object.keys(attrs)) {
        if (KEPT_ON_FAILURE.has(name) || UNTOUCHABLE.test(name)) continue;
        const explicit = this.#explicit.get(name);
        if (explicit) {
          // named for privacy by the app: never kept, and masked rather than hashed twice
          if (explicit === "remove") deleteAttribute(record, name);
          else attrs[name] = this.#mask;
          continue;
        }
        if (SHAPED.has(name)) {
          const shaped = this.#shaped(name, attrs[name]);
          // what had to be changed is not trusted in part on a record that failed
          if (shaped !== attrs[name]) attrs[name] = name === "error.type" || name === "http.request.method" ? shaped : this.#mask;
          continue;
        }
        if (STRUCTURAL.has(name)) continue;
        // a name a caller chose may itself be the secret
        if (name.startsWith(METADATA_PREFIX)) {
          deleteAttribute(record, name);
          continue;
        }
        if (KEPT_IF_CLEAN.has(name) && this.#cleanShort(attrs[name])) continue;
        attrs[name] = this.#mask;
        if (name === "audit.action") actionMasked = true;
      }
      attrs[REDACTION_FAILED_ATTR] = reason;
      record.setBody(this.#mask);
      if (actionMasked && record.eventName !== undefined) {
        record.setEventName(attrs["audit.origin"] === "client" ? "auth.client.redaction_failed" : "auth.redaction_failed");
      }
    } catch (error) {
      diag.error("otel-auth-audit: RedactionProcessor could not mask a failed record", error);
      try {
        record.setBody(this.#mask);
        for (const name of Object.keys(record.attributes)) if (!UNTOUCHABLE.test(name)) deleteAttribute(record, name);
      } catch {
        // the record object itself is broken: nothing more can be done here
      }
    }
  }

  /** A SHAPED attribute's value in its shape: see SHAPED. */
  #shaped(name: string, value: AnyValue): AnyValue {
    if (typeof value !== "string") return typeof value === "number" || typeof value === "boolean" ? value : this.#mask;
    if (value.length > this.#limits.maxStringLength) return name === "error.type" ? UNRECOGNISED_ERROR : name === "http.request.method" ? OTHER_VALUE : this.#mask;
    if (name === "http.request.method") return METHOD_SHAPE.test(value) ? value : OTHER_VALUE;
    if (name === "client.address" && isIP(value) !== 0) return value;
    if (name === "error.type" && this.#codes?.has(value)) return value;
    const spans = this.#spans(value, true);
    if (name === "error.type") {
      const code = spans ? UNRECOGNISED_ERROR : boundedErrorCode(value);
      if (code === value && this.#codes) remember(this.#codes, value);
      return code;
    }
    return spans ? this.#replace(value, spans) : value;
  }

  /** A short plain string in which no pattern finds anything (and that is no JSON text). */
  #cleanShort(value: AnyValue): boolean {
    if (typeof value !== "string" || value.length > 256) return false;
    const first = value.trimStart().charCodeAt(0);
    if (first === 123 || first === 91 || first === 34) return false;
    return this.#spans(value) === undefined;
  }

  #redactAttributes(record: ReadWriteLogRecord, budget: Budget): void {
    const attrs = record.attributes as Record<string, AnyValue>;
    for (const name of Object.keys(attrs)) {
      const plan = this.#planFor(name);
      if (plan === SKIP) continue;
      if (plan === DROP) {
        deleteAttribute(record, name);
        continue;
      }
      const value = attrs[name];
      if (plan === SHAPE) {
        const shaped = this.#shaped(name, value);
        if (shaped !== value) attrs[name] = shaped;
        continue;
      }
      const out = plan.strategy ? this.#apply(value, plan.strategy) : this.#walk(value, plan.path, budget, 0);
      if (out === value) continue;
      if (out === REMOVED) deleteAttribute(record, name);
      else attrs[name] = out;
      // the event name is made from the action: a secret in one is in the other
      if (plan.action && typeof out === "string" && record.eventName !== undefined) {
        const origin = attrs["audit.origin"];
        record.setEventName(eventNameFor(out, origin === "client" ? "client" : undefined));
      }
    }
  }

  /** What to do with an attribute of this name: worked out once per name. */
  #planFor(name: string): AttributePlan {
    let plan = this.#plans.get(name);
    if (plan) return plan;
    const explicit = this.#explicit.get(name);
    if (explicit) plan = { path: [], strategy: explicit };
    else if (SHAPED.has(name)) plan = SHAPE;
    else if (name.startsWith(METADATA_PREFIX)) plan = this.#spans(name) ? DROP : this.#dottedPlan(name.slice(METADATA_PREFIX.length));
    else if (PATTERNS_ONLY.has(name)) plan = { path: [], action: name === "audit.action" };
    else if (name.startsWith("audit.") || STRUCTURAL.has(name) || UNTOUCHABLE.test(name)) plan = SKIP;
    else plan = this.#spans(name) ? DROP : this.#dottedPlan(name);
    if (this.#plans.size > 10_000) this.#plans.clear();
    this.#plans.set(name, plan);
    return plan;
  }

  /** A dotted attribute name: its segments are the path of its value. */
  #dottedPlan(dotted: string): AttributePlan {
    const path = dotted.split(".").map((s) => this.#norm(s));
    return { path, strategy: this.#keyMatch(path) ?? (dotted.includes("[") ? this.#pairNameMatch(dotted) : undefined) };
  }

  #keyMatch(path: string[]): RedactionStrategy | undefined {
    const rules = this.#keyRules.get(path[path.length - 1]!);
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

  /**
   * Redacts inside a value without recursion: maps by key rule, strings by pattern, JSON text
   * parsed. Same reference when nothing changed. `decode` counts the JSON texts this value sits in.
   */
  #walk(root: AnyValue, base: readonly string[], budget: Budget, decode: number, depth = 0): Redacted {
    if (typeof root === "string") return this.#string(root, base, budget, decode, depth);
    if (!isContainer(root)) return root;
    // the walk extends its own copy: the caller's path (a cached plan's) stays as it was, even when a bound throws
    const path = base.slice();
    const stack: Frame[] = [];
    stack.push(this.#frame(root, depth, path.length));
    let result: Redacted = root;
    while (stack.length > 0) {
      const f = stack[stack.length - 1]!;
      const size = f.keys ? f.keys.length : (f.src as AnyValue[]).length;
      if (f.i >= size) {
        stack.pop();
        path.length = stack.length > 0 ? stack[stack.length - 1]!.at : f.at;
        const done: Redacted = f.out ?? f.src;
        const parent = stack[stack.length - 1];
        if (parent) this.#put(parent, f.src, done);
        else result = done;
        continue;
      }
      if (++budget.nodes > this.#limits.maxNodes) throw new RedactionLimitError("nodes");
      const index = f.i++;
      path.length = f.at;
      let child: AnyValue;
      if (f.keys) {
        const key = f.keys[index]!;
        child = (f.src as Record<string, AnyValue>)[key];
        const known = this.#keyFacts(key);
        // a key that is itself a secret (an address, a token) is left out with its value
        if (known.secret) {
          copyOf(f);
          continue;
        }
        path.push(known.norm);
        // `user[password]` (form-style names in JSON) is matched by its last bracketed part too
        const strategy = this.#keyMatch(path) ?? (known.bracket ? this.#pairNameMatch(key) : undefined);
        if (strategy) {
          this.#put(f, child, this.#apply(child, strategy));
          continue;
        }
      } else child = (f.src as AnyValue[])[index];
      if (isContainer(child)) stack.push(this.#frame(child, depth + stack.length, path.length));
      else this.#put(f, child, typeof child === "string" ? this.#string(child, path, budget, decode, depth + stack.length) : child);
    }
    return result;
  }

  #frame(v: AnyValue[] | Record<string, AnyValue>, depth: number, at: number): Frame {
    if (depth >= this.#limits.maxDepth) throw new RedactionLimitError("depth");
    return { src: v, keys: Array.isArray(v) ? undefined : Object.keys(v), i: 0, out: undefined, at };
  }

  /** Adds a visited entry's result to its frame's copy; a frame without changes has none. */
  #put(f: Frame, before: unknown, after: Redacted): void {
    if (after === before && f.out === undefined) return;
    const out = copyOf(f);
    if (after === REMOVED) return;
    if (f.keys) (out as Record<string, AnyValue>)[f.keys[f.i - 1]!] = after;
    else (out as AnyValue[]).push(after);
  }

  /** What a map key says, worked out once per key: its normalised name, and whether it is itself a secret. */
  #keyFacts(key: string): KeyFacts {
    let known = this.#keys.get(key);
    if (known === undefined) {
      known = { norm: this.#norm(key), secret: key.length >= 6 && this.#spans(key) !== undefined, bracket: key.includes("[") };
      if (this.#keys.size >= 10_000) this.#keys.clear();
      this.#keys.set(key, known);
    }
    return known;
  }

  #string(s: string, path: readonly string[], budget: Budget, decode: number, depth = 0): Redacted {
    // too long to read in bounded time: masked whole, never passed on unread
    if (s.length > this.#limits.maxStringLength) return this.#mask;
    budget.chars += s.length;
    if (budget.chars > this.#limits.maxTotalLength) throw new RedactionLimitError("size");
    if (decode < MAX_DECODE) {
      const json = this.#jsonText(s, path, budget, decode, depth);
      if (json !== undefined) return json;
    }
    const spans = this.#spans(s);
    return spans ? this.#replace(s, spans) : s;
  }

  /** JSON text (after any whitespace), including a JSON string holding JSON text: redacted inside, re-encoded. */
  #jsonText(s: string, path: readonly string[], budget: Budget, decode: number, depth: number): Redacted | undefined {
    let i = 0;
    while (i < s.length && s.charCodeAt(i) <= 32) i++;
    const c = s.charCodeAt(i);
    if (!(c === 123 /* { */ || c === 91 /* [ */ || c === 34) /* " */ || s.length - i < 2) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(s);
    } catch {
      return undefined;
    }
    if (typeof parsed === "string") {
      const inner = this.#string(parsed, path, budget, decode + 1, depth + 1);
      return inner === parsed ? s : JSON.stringify(inner === REMOVED ? this.#mask : inner);
    }
    if (parsed === null || typeof parsed !== "object") return undefined;
    const r = this.#walk(parsed as AnyValue, path, budget, decode + 1, depth + 1);
    return r === parsed ? s : JSON.stringify(r === REMOVED ? null : r);
  }

  /** Every span of `s` to redact (patterns, then `name=value` pairs whose name is a key rule), or undefined; an `id` gets no ID_LOOKALIKE_PATTERNS. */
  #spans(s: string, id = false): Array<[number, number, RedactionStrategy]> | undefined {
    if (s.length < 6) return undefined;
    if (s.length > this.#limits.maxStringLength) return [[0, s.length, this.#strategy]];
    const clean = id ? this.#cleanIds : this.#clean;
    if (clean?.has(s)) return undefined;
    let spans: Array<[number, number, RedactionStrategy]> | undefined;
    // one read tells which default scanners could find anything: most values skip them all
    // an id skips the run scanners: when those are all the run bits' scanners, runs are not read
    const bits = candidates(s, !(id && this.#idsSkipRuns));
    if (bits === 0 && !this.#callerPatterns) {
      if (clean) remember(clean, s);
      return undefined;
    }
    for (const p of this.#patterns) {
      if (p.bit !== 0 && (bits & p.bit) === 0) continue;
      if (id && ID_LOOKALIKE_PATTERNS.has(p.name)) continue;
      if (p.precheck && !p.precheck(s)) continue;
      for (const [start, end] of p.find(s)) (spans ??= []).push([start, end, p.strategy]);
    }
    if (bits & PAIRS) spans = pairSpans(s, this.#pairRule, spans);
    if (spans === undefined && clean) remember(clean, s);
    return spans;
  }

  /** A pair's name (`token`, `user%5Bpassword%5D`, `user[password]`, `auth.code`) against the key rules. */
  #pairNameMatch(raw: string): RedactionStrategy | undefined {
    const known = this.#pairNames.get(raw);
    if (known !== undefined) return known ?? undefined;
    const strategy = this.#pairNameRule(raw);
    if (this.#pairNames.size > 10_000) this.#pairNames.clear();
    this.#pairNames.set(raw, strategy ?? null);
    return strategy;
  }

  #pairNameRule(raw: string): RedactionStrategy | undefined {
    let name = raw;
    if (name.includes("%")) {
      try {
        name = decodeURIComponent(name);
      } catch {
        // not valid percent-encoding: matched as written
      }
    }
    const segments = name.split(/[[\].]+/).filter((x) => x !== "").map((x) => this.#norm(x));
    return segments.length > 0 ? this.#keyMatch(segments) : undefined;
  }

  #replace(s: string, spans: Array<[number, number, RedactionStrategy]>): string {
    spans.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
    let out = "";
    let at = 0;
    for (const [start, end, strategy] of spans) {
      if (end <= at) continue; // inside an earlier (longer) match
      const from = Math.max(start, at);
      out += s.slice(at, from) + this.#replacement(s.slice(from, end), strategy);
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
    if (strategy === "hash") {
      let text: string;
      try {
        text = typeof value === "string" ? value : jcs(value);
      } catch {
        return this.#mask; // a value too deep or odd to hash is masked instead
      }
      return this.#hash(text);
    }
    return this.#mask;
  }

  #hash(text: string): string {
    if (this.#hashKey) return (this.#hashTagged ? "hmac-sha256:" : "") + createHmac("sha256", this.#hashKey).update(text).digest("hex");
    return (this.#hashTagged ? "sha256:" : "") + createHash("sha256").update(text).digest("hex");
  }

  #norm(segment: string): string {
    let n = this.#normCache.get(segment);
    if (n === undefined) {
      // separators and invisible format characters (zero-width, bidi marks, soft hyphen) do not make another name
      n = foldLookalikes(segment.normalize("NFKC").toLowerCase()).replace(/[-_\s\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]/g, "");
      if (this.#normCache.size < 10_000) this.#normCache.set(segment, n);
    }
    return n;
  }
}

/** Values up to this long are remembered clean; at most this many (emptied when full: a stream of new values cannot grow it). */
const CLEAN_MAX_LENGTH = 512;
const CLEAN_MAX_VALUES = 1024;

function remember(clean: Set<string>, s: string): void {
  if (s.length > CLEAN_MAX_LENGTH) return;
  if (clean.size >= CLEAN_MAX_VALUES) clean.clear();
  clean.add(s);
}

function isContainer(value: unknown): value is AnyValue[] | Record<string, AnyValue> {
  return value !== null && typeof value === "object" && !(value instanceof Uint8Array);
}

/** A user's linear matcher, guarded: a throw or a nonsense span fails the record closed, never passes it. */
function userMatcher(match: (value: string) => Array<[number, number]>): Matcher {
  return (s) => {
    const spans: Span[] = [];
    for (const [start, end] of match(s)) {
      if (Number.isInteger(start) && Number.isInteger(end) && start >= 0 && end <= s.length && start < end) spans.push([start, end]);
    }
    return spans;
  };
}

/** A user's regular expression as a matcher; a named group `secret` narrows the span. */
function regexMatcher(regex: RegExp, validate: ((match: string) => boolean) | undefined): Matcher {
  const group = regex.source.includes("(?<secret>");
  let flags = regex.flags;
  if (!flags.includes("g")) flags += "g";
  if (group && !flags.includes("d")) flags += "d";
  const re = new RegExp(regex.source, flags);
  return (s) => {
    const spans: Span[] = [];
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(s)) !== null) {
      if (m[0] === "") {
        re.lastIndex++;
        continue;
      }
      if (validate && !validate(m[0])) continue;
      const g = group ? m.indices?.groups?.secret : undefined;
      spans.push(g ? [g[0], g[1]] : [m.index, m.index + m[0].length]);
    }
    return spans;
  };
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
