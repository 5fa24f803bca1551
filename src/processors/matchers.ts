/**
 * The default value patterns of the RedactionProcessor as hand-written scanners. A backtracking
 * regular expression can take quadratic (or worse) time on a crafted string, and a User-Agent is
 * whatever a caller sends; each scanner here reads its input a bounded number of times, so its cost
 * is linear in the length of the value (test/adversarial/linear-matchers.test.ts measures it).
 */

/** A half-open span `[start, end)` of a string to redact. */
export type Span = [number, number];
/** Finds the spans of one kind of secret in a string, in linear time. */
export type Matcher = (s: string) => Span[];

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isAsciiLetter = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isAsciiAlnum = (c: number): boolean => isDigit(c) || isAsciiLetter(c);
const isHex = (c: number): boolean => isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
/** `\w` of a regular expression. */
const isWord = (c: number): boolean => isAsciiAlnum(c) || c === 95;
const NON_ASCII_ALNUM = /^[\p{L}\p{N}\p{M}]$/u;
/** A letter or digit of any script (IDN domains, local parts in any language). */
const isAlnumAnyScript = (s: string, i: number): boolean => {
  const c = s.charCodeAt(i);
  if (c < 128) return isAsciiAlnum(c);
  return NON_ASCII_ALNUM.test(s[i]!);
};

/** Mixed letters and digits: a long run of only letters or only digits is a word or a number, not a secret. */
function mixed(s: string, start: number, end: number, needBothCases = false): boolean {
  let digit = false;
  let lower = false;
  let upper = false;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (isDigit(c)) digit = true;
    else if (c >= 97 && c <= 122) lower = true;
    else if (c >= 65 && c <= 90) upper = true;
  }
  return digit && (needBothCases ? lower && upper : lower || upper);
}

// ---- e-mail ----------------------------------------------------------------------------------

const LOCAL_SPECIALS = new Set("._%+-!#$&'*/=?^`{|}~".split("").map((c) => c.charCodeAt(0)));
const MAX_LOCAL = 64;
const MAX_DOMAIN = 255;
/** Dots as they are written in domains: ASCII, fullwidth, ideographic, halfwidth ideographic; `%2E`. */
const isDomainDot = (c: number): boolean => c === 46 || c === 0xff0e || c === 0x3002 || c === 0xff61;

/**
 * Invisible format characters (zero-width space/joiners, bidi marks and embeddings, word joiner,
 * BOM, soft hyphen): a renderer shows the address without them, so they do not end one.
 */
const isInvisible = (c: number): boolean =>
  c === 0xad || (c >= 0x200b && c <= 0x200f) || (c >= 0x202a && c <= 0x202e) || (c >= 0x2060 && c <= 0x2064) || c === 0xfeff;

const lowerAt = (s: string, i: number): number => s.charCodeAt(i) | 32;
/** Whether `s` holds `word` (lower-case ASCII) at `i`, in any case. */
function hasAt(s: string, i: number, word: string): boolean {
  for (let k = 0; k < word.length; k++) if (lowerAt(s, i + k) !== word.charCodeAt(k)) return false;
  return true;
}

/**
 * The length of an "at" written at `i`: `@`, fullwidth `＠`, small `﹫`, percent-encoded `%40` or
 * twice encoded `%2540`, the escapes `\u0040`, `&#64;`, `&#x40;`, `&commat;`; 0 for none.
 */
function atLength(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c === 64 || c === 0xff20 || c === 0xfe6b) return 1;
  if (c === 37) {
    if (s.charCodeAt(i + 1) === 52 && s.charCodeAt(i + 2) === 48) return 3; // %40
    if (s.charCodeAt(i + 1) === 50 && s.charCodeAt(i + 2) === 53 && s.charCodeAt(i + 3) === 52 && s.charCodeAt(i + 4) === 48) return 5; // %2540
    return 0;
  }
  if (c === 92 && hasAt(s, i + 1, "u0040")) return 6;
  if (c === 38) {
    if (hasAt(s, i + 1, "#64;")) return 5;
    if (hasAt(s, i + 1, "#x40;")) return 6;
    if (hasAt(s, i + 1, "commat;")) return 8;
  }
  return 0;
}

/**
 * E-mail addresses in the spellings they leak in: ASCII and internationalised (IDN) names, a
 * quoted local part (`"jane doe"@example.com`), `%40` (URL-encoded), fullwidth `＠` and `．`.
 * For each "at", the local part is read backwards and the domain forwards, each at most its
 * RFC length: every character is read a bounded number of times.
 */
export const emailMatcher: Matcher = (s) => {
  const spans: Span[] = [];
  let done = 0; // end of the last match: a local part never reaches into it
  for (let i = 0; i < s.length; i++) {
    const at = atLength(s, i);
    if (at === 0) continue;
    // local part, backwards
    let start = i;
    if (s.charCodeAt(i - 1) === 34 /* " */) {
      const limit = Math.max(done, i - 1 - MAX_LOCAL);
      let j = i - 2;
      while (j >= limit && s.charCodeAt(j) !== 34) j--;
      if (j >= limit && j < i - 2) start = j;
    } else {
      const limit = Math.max(done, i - MAX_LOCAL);
      let j = i - 1;
      while (j >= limit && (isAlnumAnyScript(s, j) || LOCAL_SPECIALS.has(s.charCodeAt(j)) || isInvisible(s.charCodeAt(j)))) j--;
      start = j + 1;
      // an encoded local part may itself hold percent escapes; leading dots are not part of it
      while (start < i && s.charCodeAt(start) === 46) start++;
    }
    if (start >= i) continue;
    // domain, forwards: labels of letters/digits/hyphens separated by dots, the last one the TLD
    const from = i + at;
    let j = from;
    let lastDot = -1;
    let lastDotLength = 0;
    const limit = Math.min(s.length, from + MAX_DOMAIN);
    while (j < limit) {
      const c = s.charCodeAt(j);
      if (isDomainDot(c)) {
        if (j === from || j === lastDot + lastDotLength) break; // empty label
        lastDot = j;
        lastDotLength = 1;
        j++;
        continue;
      }
      if (c === 37 && s.charCodeAt(j + 1) === 50 && (s.charCodeAt(j + 2) | 32) === 101) {
        // %2E / %2e
        if (j === from || j === lastDot + lastDotLength) break;
        lastDot = j;
        lastDotLength = 3;
        j += 3;
        continue;
      }
      if (c === 45 || isAlnumAnyScript(s, j) || (isInvisible(c) && j > from)) {
        j++;
        continue;
      }
      break;
    }
    // a trailing dot ends the sentence, not the domain
    let end = j;
    if (lastDot >= 0 && lastDot + lastDotLength === end) {
      end = lastDot;
      lastDot = -1;
      for (let k = end - 1; k >= from; k--) if (isDomainDot(s.charCodeAt(k))) { lastDot = k; lastDotLength = 1; break; }
    }
    if (lastDot < 0) continue;
    // the TLD: at least two letters (any script), or punycode
    let letters = 0;
    for (let k = lastDot + lastDotLength; k < end; k++) if (!isDigit(s.charCodeAt(k))) letters++;
    if (letters < 2) continue;
    spans.push([start, end]);
    done = end;
    i = end - 1;
  }
  return spans;
};

// ---- bearer / basic credentials ----------------------------------------------------------------

const isTokenChar = (c: number): boolean => isAsciiAlnum(c) || c === 46 || c === 95 || c === 126 || c === 43 || c === 47 || c === 45;

const SCHEMES = ["bearer", "basic"];

/** The first index at or after `from` where `s` holds `word` (lower-case ASCII) in any ASCII case, or -1. */
function indexOfAnyCase(s: string, word: string, from: number): number {
  for (let i = from; i + word.length <= s.length; i++) if (hasAt(s, i, word)) return i;
  return -1;
}

/**
 * `Bearer <token>` / `Basic <credentials>`: the credential after the scheme (the scheme stays).
 * The scheme is found in `s` itself, not in `s.toLowerCase()`: `İ` lower-cases to two characters,
 * and indexes of the lower-cased text would miss the token after it.
 */
export const bearerMatcher: Matcher = (s) => {
  const spans: Span[] = [];
  for (const scheme of SCHEMES) {
    let from = 0;
    for (;;) {
      const i = indexOfAnyCase(s, scheme, from);
      if (i < 0) break;
      from = i + scheme.length;
      if (i > 0 && isWord(s.charCodeAt(i - 1))) continue;
      let j = from;
      while (j < s.length && (s.charCodeAt(j) === 32 || s.charCodeAt(j) === 9)) j++;
      if (j === from) continue;
      const start = j;
      while (j < s.length && isTokenChar(s.charCodeAt(j))) j++;
      if (j === start) continue;
      while (j < s.length && s.charCodeAt(j) === 61) j++;
      spans.push([start, j]);
      from = j;
    }
  }
  return spans;
};

// ---- JWT ------------------------------------------------------------------------------------------

const isB64Url = (c: number): boolean => isAsciiAlnum(c) || c === 45 || c === 95;

/** A JSON Web Token: `eyJ…` header, payload and (possibly empty) signature, base64url, dot-separated. */
export const jwtMatcher: Matcher = (s) => {
  const spans: Span[] = [];
  let from = 0;
  for (;;) {
    const i = s.indexOf("eyJ", from);
    if (i < 0) break;
    from = i + 3;
    if (i > 0 && isWord(s.charCodeAt(i - 1))) continue;
    let j = i;
    const run = () => {
      const start = j;
      while (j < s.length && isB64Url(s.charCodeAt(j))) j++;
      return j - start;
    };
    if (run() < 8 || s.charCodeAt(j) !== 46) continue;
    j++;
    if (run() < 5 || s.charCodeAt(j) !== 46) continue;
    j++;
    run();
    spans.push([i, j]);
    from = j;
  }
  return spans;
};

// ---- runs: hex and base64 secrets --------------------------------------------------------------

/** Long hexadecimal secrets (32+ digits) that mix letters and digits, between word boundaries. */
export const hexMatcher: Matcher = (s) => {
  const spans: Span[] = [];
  let i = 0;
  while (i < s.length) {
    if (!isWord(s.charCodeAt(i))) {
      i++;
      continue;
    }
    const start = i;
    let allHex = true;
    while (i < s.length && isWord(s.charCodeAt(i))) {
      if (!isHex(s.charCodeAt(i))) allHex = false;
      i++;
    }
    if (allHex && i - start >= 32 && mixed(s, start, i)) spans.push([start, i]);
  }
  return spans;
};

const isB64Char = (c: number): boolean => isAsciiAlnum(c) || c === 43 || c === 95 || c === 45;

/** Long base64 / base64url secrets (40+ characters) mixing digits, lower- and upper-case letters. */
export const base64Matcher: Matcher = (s) => {
  const spans: Span[] = [];
  let i = 0;
  while (i < s.length) {
    if (!isB64Char(s.charCodeAt(i))) {
      i++;
      continue;
    }
    const start = i;
    while (i < s.length && isB64Char(s.charCodeAt(i))) i++;
    const runEnd = i;
    let end = runEnd;
    while (end < s.length && end - runEnd < 2 && s.charCodeAt(end) === 61) end++;
    if (runEnd - start >= 40 && mixed(s, start, runEnd, true)) spans.push([start, end]);
    i = end;
  }
  return spans;
};

// ---- card numbers ----------------------------------------------------------------------------

/**
 * Payment card numbers: 13–19 digits, optionally grouped by single spaces or hyphens, passing the
 * Luhn check, between word boundaries. Candidates start and end on group boundaries; with prefix
 * sums each Luhn check is O(1), so at most 7 candidates per group start cost constant time, and
 * a run allocates a few typed arrays once: linear. A run of more than 4096 digits is masked whole.
 */
const MAX_CARD_RUN = 4096;

export const cardMatcher: Matcher = (s) => {
  const spans: Span[] = [];
  let i = 0;
  while (i < s.length) {
    if (!isDigit(s.charCodeAt(i)) || (i > 0 && isWord(s.charCodeAt(i - 1)))) {
      i++;
      continue;
    }
    // the run: digit groups joined by single separators
    let j = i;
    let count = 0;
    for (;;) {
      while (j < s.length && isDigit(s.charCodeAt(j))) {
        j++;
        count++;
      }
      const sep = s.charCodeAt(j);
      if ((sep === 32 || sep === 45) && isDigit(s.charCodeAt(j + 1))) {
        j++;
        continue;
      }
      break;
    }
    const runEnd = j;
    // thousands of grouped digits are a blob, not a card: masked whole, in bounded memory
    if (count > MAX_CARD_RUN) spans.push([i, runEnd]);
    else if (count >= 13) scanRun(s, i, runEnd, count, spans);
    i = runEnd + 1;
  }
  return spans;
};

function scanRun(s: string, from: number, to: number, count: number, spans: Span[]): void {
  const pos = new Int32Array(count);
  const startsGroup = new Uint8Array(count + 1);
  // Luhn: a digit is doubled when its distance from the last digit is odd, i.e. when its parity
  // differs from the last digit's. Prefix sums per parity, plain and doubled.
  const plain = [new Int32Array(count + 1), new Int32Array(count + 1)];
  const doubled = [new Int32Array(count + 1), new Int32Array(count + 1)];
  let k = 0;
  for (let j = from; j < to; j++) {
    const c = s.charCodeAt(j);
    if (!isDigit(c)) continue;
    const d = c - 48;
    pos[k] = j;
    startsGroup[k] = j === from || !isDigit(s.charCodeAt(j - 1)) ? 1 : 0;
    const p = k & 1;
    const dd = d * 2 > 9 ? d * 2 - 9 : d * 2;
    plain[p]![k + 1] = plain[p]![k]! + d;
    plain[1 - p]![k + 1] = plain[1 - p]![k]!;
    doubled[p]![k + 1] = doubled[p]![k]! + dd;
    doubled[1 - p]![k + 1] = doubled[1 - p]![k]!;
    k++;
  }
  startsGroup[count] = 1;
  const sum = (arr: Int32Array, a: number, b: number) => arr[b + 1]! - arr[a]!;
  const luhnOk = (a: number, e: number) => {
    const pe = e & 1;
    return (sum(plain[pe]!, a, e) + sum(doubled[1 - pe]!, a, e)) % 10 === 0;
  };
  let d = 0;
  while (d < count) {
    if (!startsGroup[d]) {
      d++;
      continue;
    }
    let best = -1;
    for (let len = 13; len <= 19 && d + len <= count; len++) {
      const e = d + len - 1;
      // ends where a group ends, at a word boundary, like `\b`
      if (!startsGroup[e + 1]) continue;
      const after = pos[e]! + 1;
      if (after < s.length && isWord(s.charCodeAt(after))) continue;
      if (luhnOk(d, e)) best = e;
    }
    if (best >= 0) {
      spans.push([pos[d]!, pos[best]! + 1]);
      d = best + 1;
    } else d++;
  }
}

// ---- name=value pairs ------------------------------------------------------------------------

/** A `name=value` name longer than this is not a name. */
const MAX_PAIR_NAME = 128;
/** Characters that may appear in the name of a `name=value` pair (URL query, form body, free text). */
const isPairNameChar = (c: number): boolean =>
  c >= 128 /* letters of any script, fullwidth forms: NFKC-normalised when matched */ ||
  (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 45 || c === 46 || c === 91 || c === 93 || c === 37 || c === 36;
/** What may come before a pair's name: start, `?`, `&`, `;`, `,`, whitespace, quotes, brackets. */
const isPairStart = (c: number): boolean => Number.isNaN(c) || c === 63 || c === 38 || c === 59 || c === 44 || c <= 32 || c === 34 || c === 39 || c === 40 || c === 123 || c === 60 || c === 47 || c === 35;
/** Where a pair's value ends. */
const isPairValueEnd = (c: number): boolean =>
  c === 38 || c === 59 || c === 35 || c <= 32 || c === 34 || c === 39 || c === 60 || c === 62 || c === 44 || c === 41 || c === 125 || c === 92;

/**
 * Values of `name=value` pairs (URL queries, form bodies, cookies, free text) and of `"name": value`
 * members of JSON fragments whose name has a rule (`ruleOf`): `?token=abc`, `a=1&password=x`,
 * `{"otp":"1"`. Each `=` or `:` looks back a bounded distance; a matched value is skipped over:
 * linear. Appends `[start, end, rule]` to `spans` (made when the first one is found) and returns it.
 */
export function pairSpans<T>(s: string, ruleOf: (name: string) => T | undefined, spans: Array<[number, number, T]> | undefined): Array<[number, number, T]> | undefined {
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 61 /* = */ && c !== 58 /* : */) continue;
    if (i < from) continue;
    let nameEnd = i;
    let quoted = false;
    if (c === 58) {
      // only `"name": value` (JSON fragments): a bare colon is a time, a scheme, an action name
      let k = i - 1;
      while (k >= 0 && s.charCodeAt(k) <= 32 && i - k < 8) k--;
      if (s.charCodeAt(k) !== 34) continue;
      nameEnd = k;
      // JSON text inside JSON text escapes its quotes: `\"name\":`
      while (nameEnd > 0 && s.charCodeAt(nameEnd - 1) === 92 && nameEnd > i - 16) nameEnd--;
      quoted = true;
    }
    let k = nameEnd - 1;
    const limit = Math.max(from, nameEnd - MAX_PAIR_NAME);
    while (k >= limit && isPairNameChar(s.charCodeAt(k))) k--;
    const nameStart = k + 1;
    if (nameStart >= nameEnd) continue;
    if (quoted ? s.charCodeAt(k) !== 34 : !isPairStart(s.charCodeAt(k))) continue;
    const rule = ruleOf(s.slice(nameStart, nameEnd));
    if (rule === undefined) continue;
    // the value: a quoted string to its closing quote, else up to a delimiter
    let v = i + 1;
    while (v < s.length && s.charCodeAt(v) === 32 && c === 58) v++;
    let escaped = 0;
    while (s.charCodeAt(v + escaped) === 92 && escaped < 16) escaped++;
    let end = v;
    if (s.charCodeAt(v + escaped) === 34) {
      v += escaped;
      end = v + 1;
      // to the closing quote; an escaped opening quote closes at the first escaped quote
      while (end < s.length && s.charCodeAt(end) !== 34) {
        if (s.charCodeAt(end) === 92) {
          if (escaped > 0 && s.charCodeAt(end + 1) === 34) break;
          if (escaped > 0) {
            end++;
            continue;
          }
          end += 2;
          continue;
        }
        end++;
      }
      end = Math.min(end, s.length);
      if (end > v + 1) (spans ??= []).push([v + 1, end, rule]);
    } else {
      while (end < s.length && !isPairValueEnd(s.charCodeAt(end))) end++;
      if (end > v) (spans ??= []).push([v, end, rule]);
    }
    from = end;
    i = end - 1;
  }
  return spans;
}

// ---- which scanners can find anything ------------------------------------------------------

/** Bits of `candidates`, one per scanner; `PAIRS` is the processor's `name=value` scanner. */
export const EMAIL = 1;
export const BEARER = 2;
export const JWT = 4;
export const HEX = 8;
export const BASE64 = 16;
export const CARD = 32;
export const PAIRS = 64;
/** The scanners of runs rather than markers. */
export const RUN_BITS = HEX | BASE64 | CARD;

/** Each default scanner's bit: a pattern whose matcher is one of these skips it when `candidates` clears the bit. */
export const SCANNER_BITS: ReadonlyMap<Matcher, number> = new Map([
  [emailMatcher, EMAIL],
  [bearerMatcher, BEARER],
  [jwtMatcher, JWT],
  [hexMatcher, HEX],
  [base64Matcher, BASE64],
  [cardMatcher, CARD],
]);

/** Classes of ASCII characters for `candidates`: plain letters and digits take its shortest paths. */
const OTHER = 0;
const LETTER = 1;
const DIGIT = 2;
/** `e` (of `eyJ`), `b` and `B` (of `bearer`, `basic`): letters that may start a marker. */
const MARKER = 3;
const CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  CLASS[c] = c === 101 || c === 98 || c === 66 ? MARKER : isAsciiLetter(c) ? LETTER : isDigit(c) ? DIGIT : OTHER;
}

/**
 * One read of `s` telling which scanners could find anything in it, so a typical value (an action,
 * a path, a User-Agent) is read once instead of once per scanner. A clear bit is a proof that its
 * scanner finds nothing; each is a necessary condition read off the scanner itself:
 * e-mail — an "at" can start only at `@`, `＠`, `﹫`, `%`, `\` or `&` (atLength);
 * bearer — the scheme, `bearer` or `basic` in any ASCII case; JWT — `eyJ`;
 * hex — a run of 32+ word characters; base64 — a run of 40+ base64 characters;
 * card — 13+ digits joined by single spaces or hyphens;
 * pairs — a `=`, or a `:` after a quote and at most 7 blanks (pairSpans).
 * Most values hold none of these: plainText tells so at a fraction of the cost. Without `runs`, the
 * RUN_BITS are left clear unread, for a caller that skips those scanners (ids).
 * test/redaction-fast-path.property.test.ts holds each scanner to it on hostile strings.
 */
export function candidates(s: string, runs = true): number {
  return plainText(s, runs) ? 0 : scannerBits(s);
}

/** `candidates`, read character by character. */
export function scannerBits(s: string): number {
  let bits = 0;
  let word = 0; // where the current run of word characters started
  let b64 = 0; // … of base64 characters
  let digits = 0; // digits of the current card-shaped run
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    const k = c < 128 ? CLASS[c]! : OTHER;
    // letters and digits continue the word and base64 runs: nothing to do for them but the card's count
    if (k === LETTER) {
      digits = 0;
      continue;
    }
    if (k === DIGIT) {
      if (++digits >= 13) bits |= CARD;
      continue;
    }
    if (k === MARKER) {
      digits = 0;
      if (c === 101) {
        if (s.charCodeAt(i + 1) === 121 /* y */ && s.charCodeAt(i + 2) === 74 /* J */) bits |= JWT;
      } else if (hasAt(s, i + 1, "asic") || hasAt(s, i + 1, "earer")) bits |= BEARER;
      continue;
    }
    if (c !== 95 /* _ */) {
      if (i - word >= 32) bits |= HEX;
      word = i + 1;
      if (c !== 43 /* + */ && c !== 45 /* - */) {
        if (i - b64 >= 40) bits |= BASE64;
        b64 = i + 1;
      }
    }
    // a single space or hyphen between digits continues a card number
    if (!((c === 32 || c === 45) && isDigit(s.charCodeAt(i - 1)) && isDigit(s.charCodeAt(i + 1)))) digits = 0;
    if (c === 64 || c === 37 || c === 92 || c === 38 || c === 0xff20 || c === 0xfe6b) bits |= EMAIL;
    else if (c === 61 /* = */) bits |= PAIRS;
    else if (c === 58 /* : */) {
      let q = i - 1;
      while (q >= 0 && s.charCodeAt(q) <= 32 && i - q < 8) q--;
      if (s.charCodeAt(q) === 34 /* " */) bits |= PAIRS;
    }
  }
  if (n - word >= 32) bits |= HEX;
  if (n - b64 >= 40) bits |= BASE64;
  return bits;
}

/** What starts a marker of `candidates`: an "at" or `=`, a JSON member's colon, `eyJ`, a bearer scheme. */
const MARKERS = /[@%\\&=\uff20\ufe6b]|"[\0- ]{0,7}:|eyJ|[bB](?:[aA][sS][iI][cC]|[eE][aA][rR][eE][rR])/;
/** Characters of the runs of hex and base64 secrets. */
const isRunChar = (c: number): boolean => isAsciiAlnum(c) || c === 95 || c === 43 || c === 45;
/** Characters of a card number's run: digits and their single separators. */
const isCardChar = (c: number): boolean => isDigit(c) || c === 32 || c === 45;

/**
 * Whether `s` is a value `candidates` would give 0, told cheaply: no marker (one native regular
 * expression search) and, with `runs`, no segment of run characters long enough for a card (13),
 * a hex (32) or a base64 (40) secret. A segment of at least 2·k characters covers two consecutive
 * multiples of k, so only every k-th character is read, and the characters between two samples in
 * the class.
 */
function plainText(s: string, runs: boolean): boolean {
  if (MARKERS.test(s)) return false;
  if (!runs) return true;
  if (s.length >= 13) {
    for (let i = 6; i < s.length; i += 6) {
      if (!isCardChar(s.charCodeAt(i)) || !isCardChar(s.charCodeAt(i - 6))) continue;
      let k = i - 5;
      while (k < i && isCardChar(s.charCodeAt(k))) k++;
      if (k === i) return false;
    }
  }
  if (s.length >= 32) {
    for (let i = 16; i < s.length; i += 16) {
      if (!isRunChar(s.charCodeAt(i)) || !isRunChar(s.charCodeAt(i - 16))) continue;
      let k = i - 15;
      while (k < i && isRunChar(s.charCodeAt(k))) k++;
      if (k === i) return false;
    }
  }
  return true;
}
