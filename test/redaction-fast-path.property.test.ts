/**
 * The redactor's fast path: `candidates` reads a value once and the default scanners whose bit it
 * clears are skipped. A clear bit must be a proof that the scanner finds nothing, on any string: it
 * is checked here against each scanner on generated hostile values (fragments of everything the
 * scanners look for, in every spelling, glued to random text), and the whole processor against
 * one whose scanners always run.
 */
import { LoggerProvider, type LogRecordProcessor, type ReadWriteLogRecord } from "@opentelemetry/sdk-logs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BASE64,
  base64Matcher,
  BEARER,
  bearerMatcher,
  CARD,
  candidates,
  cardMatcher,
  EMAIL,
  emailMatcher,
  HEX,
  hexMatcher,
  JWT,
  jwtMatcher,
  type Matcher,
  PAIRS,
  pairSpans,
  RUN_BITS,
  scannerBits,
} from "../src/processors/matchers.js";
import { DEFAULT_REDACT_PATTERNS, RedactionProcessor, type RedactionOptions } from "../src/processors/redaction.js";
import { SCOPE_NAME } from "../src/version.js";

/** Pieces of every shape a scanner looks for, and of near misses. */
const FRAGMENTS = [
  "@", "%40", "%2540", "%4", "%25", "\\u0040", "\\u004", "&#64;", "&#x40;", "&commat;", "&#6", "＠", "﹫", "．", "。", "%2E", ".", "..",
  "bearer", "Bearer ", "BEARER\t", "basic ", "bAsIc", "beare", "basi", "İ", "K", "ß", "ſ", "eyJ", "eyj", "EYJ", "eyJhbGciOi", ".eyJzdWIi",
  "0123456789abcdef", "0123456789ABCDEF", "deadbeef", "aA0", "aA0+/", "-_", "_", "+", "==", "=",
  "4242", "4242 ", "4242-", "4111111111111111", "4111 1111 1111 1111", "1", "12", " ", "-", "--", "  ",
  ":", "\":", "\" :", "\"\t\t:", "\\\":", "token", "password", "\"otp\"", "code=", "?a=1&", "user[password]", "%5B", "]",
  "\u200b", "\u00ad", "\u202e", "ü", "例", "é", "\ud83d\ude00", "x", "Z", "9", "\n", "\"", "'", "{", "}", "[", "(", ")", "/", "\\", "&", ";", ",",
];
/** A Luhn-valid number of 12–20 digits (card lengths and one either side), grouped by single spaces or hyphens, or not. */
const card = fc
  .tuple(fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 11, maxLength: 19 }), fc.constantFrom("", " ", "-"), fc.integer({ min: 2, max: 6 }))
  .map(([body, sep, group]) => {
    let sum = 0;
    for (let i = 0; i < body.length; i++) {
      const d = body[body.length - 1 - i]!;
      sum += i % 2 === 0 ? (d * 2 > 9 ? d * 2 - 9 : d * 2) : d;
    }
    const digits = [...body, (10 - (sum % 10)) % 10].join("");
    return digits.replace(new RegExp(`(\\d{${group}})(?=\\d)`, "g"), `$1${sep}`);
  });
/** An e-mail address in one of the spellings the scanner knows. */
const email = fc
  .tuple(
    fc.stringMatching(/^[a-z0-9][a-z0-9._%+-]{0,7}$/),
    fc.constantFrom("@", "%40", "%2540", "\\u0040", "\\U0040", "&#64;", "&#x40;", "&#X40;", "&commat;", "&COMMAT;", "＠", "﹫"),
    fc.stringMatching(/^[a-z0-9-]{1,8}$/),
    fc.constantFrom(".", "%2E", "%2e", "．", "。", "｡"),
    fc.constantFrom("com", "de", "xn--p1ai", "广告", "c0", "io."),
  )
  .map((parts) => parts.join(""));
/** `"name"`, up to 9 blanks, a colon: the pairs scanner reads JSON members up to 7 blanks back. */
const member = fc.tuple(fc.constantFrom('"token"', '\\"otp\\"', '"x"'), fc.stringMatching(/^[ \t\n\r\0]{0,9}$/), fc.constantFrom(":", ": \"v\"", ":1")).map((p) => p.join(""));
const fragment = fc.oneof(
  { weight: 1, arbitrary: card },
  { weight: 1, arbitrary: email },
  { weight: 1, arbitrary: member },
  { weight: 4, arbitrary: fc.constantFrom(...FRAGMENTS) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 6 }) },
  { weight: 1, arbitrary: fc.stringMatching(/^[0-9a-fA-F]{1,48}$/) },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9+_-]{1,48}$/) },
  { weight: 1, arbitrary: fc.stringMatching(/^[0-9][0-9 -]{0,24}$/) },
  // runs of exactly the lengths the scanners start at, wherever they fall
  { weight: 1, arbitrary: fc.stringMatching(/^(?:[0-9]{12,14}|[0-9a-fA-F]{31,33}|[A-Za-z0-9_]{32}|[A-Za-z0-9+_-]{39,41})$/) },
);
/** Values up to a few hundred characters made of those pieces. */
const hostile = fc.array(fragment, { maxLength: 40 }).map((parts) => parts.join(""));

const SCANNERS: Array<[string, number, Matcher]> = [
  ["email", EMAIL, emailMatcher],
  ["bearer", BEARER, bearerMatcher],
  ["jwt", JWT, jwtMatcher],
  ["hex", HEX, hexMatcher],
  ["base64", BASE64, base64Matcher],
  ["card", CARD, cardMatcher],
];

const RUNS = { numRuns: 3000 };

describe("candidates: a clear bit proves its scanner finds nothing", () => {
  for (const [name, bit, scanner] of SCANNERS) {
    it(name, () => {
      fc.assert(
        fc.property(hostile, (s) => {
          if ((candidates(s) & bit) === 0) expect(scanner(s)).toEqual([]);
        }),
        RUNS,
      );
    });
  }

  it("the cheap plain-text test agrees with the character-by-character read", () => {
    fc.assert(
      fc.property(hostile, (s) => {
        expect(candidates(s)).toBe(scannerBits(s));
        // without runs, the other bits are still exact
        expect(candidates(s, false) & ~RUN_BITS).toBe(scannerBits(s) & ~RUN_BITS);
      }),
      RUNS,
    );
  });

  it("pairs, whatever the name (every name has a rule here)", () => {
    fc.assert(
      fc.property(hostile, (s) => {
        if ((candidates(s) & PAIRS) === 0) expect(pairSpans(s, () => "rule", undefined)).toBeUndefined();
      }),
      RUNS,
    );
  });

  it("generates what the scanners find: cards and e-mails", () => {
    fc.assert(
      fc.property(card, email, (c, e) => {
        const digits = c.replace(/\D/g, "").length;
        if (digits >= 13 && digits <= 19) expect(cardMatcher(c)).toEqual([[0, c.length]]);
        if (/(com|de|p1ai|广告)$/.test(e)) expect(emailMatcher(e)).toEqual([[0, e.length]]);
      }),
      { numRuns: 300 },
    );
  });

  it("sets each bit on a value its scanner finds something in", () => {
    const found: Array<[number, string]> = [
      [EMAIL, "mail jane@example.com now"],
      [BEARER, "Authorization: Bearer abc.def"],
      [JWT, "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig"],
      [HEX, "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"],
      [BASE64, "k9Qx2LmPz7Rt4VwYb8Nc1Df6Gh3Jk5Lm0Np2Qr7St9Uv"],
      [CARD, "card 4111 1111 1111 1111"],
      [PAIRS, "?token=abc"],
      [PAIRS, '{"otp" :"123"'],
    ];
    for (const [bit, s] of found) expect(candidates(s) & bit).toBe(bit);
    expect(candidates("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36")).toBe(0);
    expect(candidates("sign-in:email failure: INVALID_EMAIL_OR_PASSWORD")).toBe(0);
  });
});

describe("the processor's fast path against its full path", () => {
  const fast = new RedactionProcessor();
  // the same scanners behind functions of their own: no bit is known for them, so they always run
  const full = new RedactionProcessor({
    patterns: DEFAULT_REDACT_PATTERNS.map((p) => ({ ...p, match: (s: string) => p.match!(s) })),
  });
  const hashing = { emailStrategy: "hash" as const, hashKey: "fast-path-test-key-0123456789", extraKeys: [{ key: "note", strategy: "hash" as const }] };
  const fastHash = new RedactionProcessor(hashing);
  const fullHash = new RedactionProcessor({ ...hashing, patterns: DEFAULT_REDACT_PATTERNS.map((p) => ({ ...p, match: (s: string) => p.match!(s) })) });

  it("redacts every value alike, as a value, in JSON text and under a key", () => {
    fc.assert(
      fc.property(hostile, fc.constantFrom("", "comment", "requestBody.note", "headers"), (s, path) => {
        expect(fast.redactValue(s, path)).toEqual(full.redactValue(s, path));
        expect(fast.redactValue(JSON.stringify({ [s.slice(0, 12)]: s, list: [s] }), path)).toEqual(full.redactValue(JSON.stringify({ [s.slice(0, 12)]: s, list: [s] }), path));
        expect(fast.redactValue({ [s]: 1, inner: { v: s } })).toEqual(full.redactValue({ [s]: 1, inner: { v: s } }));
        expect(fastHash.redactValue(s, "detail")).toEqual(fullHash.redactValue(s, "detail"));
      }),
      RUNS,
    );
  });

  /** A record through `options`' processor, as the next processor sees it. */
  const emitted = (options: RedactionOptions) => {
    let seen: ReadWriteLogRecord | undefined;
    const capture: LogRecordProcessor = { onEmit: (r) => void (seen = r), forceFlush: async () => {}, shutdown: async () => {} };
    const logger = new LoggerProvider({ processors: [new RedactionProcessor(options), capture] }).getLogger(SCOPE_NAME);
    return (s: string) => {
      logger.emit({
        eventName: "auth.sign_in.email",
        body: s,
        attributes: {
          "audit.action": s, "audit.id": "id", "user.id": s, "session.id": s, "user.hash": s, "audit.actor.id": s, "client.address": s,
          "error.type": s, "http.request.method": s, "url.path": s, "user_agent.original": s, "audit.metadata.note": s, [`audit.metadata.${s}`]: 1,
        },
      });
      return { body: seen!.body, attributes: { ...seen!.attributes }, eventName: seen!.eventName };
    };
  };

  it("redacts every attribute of a record alike, structural ones (ids, codes) too", () => {
    const full = { patterns: DEFAULT_REDACT_PATTERNS.map((p) => ({ ...p, match: (s: string) => p.match!(s) })) };
    const fast = emitted({});
    const slow = emitted(full);
    const fastHash = emitted(hashing);
    const slowHash = emitted({ ...hashing, ...full });
    // a run scanner under a name ids do not skip: ids are read for runs again
    const fastRenamed = emitted({ extraPatterns: [{ name: "long-hex", match: hexMatcher }] });
    const slowRenamed = emitted({ extraPatterns: [{ name: "long-hex", match: (s) => hexMatcher(s) }] });
    fc.assert(
      fc.property(hostile, (s) => {
        expect(fast(s)).toEqual(slow(s));
        expect(fastHash(s)).toEqual(slowHash(s));
        expect(fastRenamed(s)).toEqual(slowRenamed(s));
      }),
      { numRuns: 1500 },
    );
  });
});
