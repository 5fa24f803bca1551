/**
 * Cyrillic and Greek letters that look like Latin ones, after lower-casing: `раssword` (Cyrillic
 * р, а) reads as `password` to a person and must match like it. NFKC does not fold these, so names
 * that decide redaction or privilege are folded here too. A short table of the common lookalikes
 * (Unicode's confusables for Latin a–z), not a full skeleton algorithm.
 */
const LOOKALIKE: Record<string, string> = {
  // Cyrillic
  а: "a", в: "b", с: "c", ԁ: "d", е: "e", ё: "e", һ: "h", н: "h", і: "i", ї: "i", ј: "j", к: "k", ӏ: "l",
  м: "m", о: "o", р: "p", ԛ: "q", ѕ: "s", т: "t", у: "y", ү: "y", х: "x", ԝ: "w", ь: "b",
  // Greek
  α: "a", β: "b", ε: "e", η: "n", ι: "i", κ: "k", ν: "v", ο: "o", ρ: "p", τ: "t", υ: "u", χ: "x", ω: "w",
  // Latin letters of other blocks
  ɡ: "g", ı: "i", ȷ: "j", ʟ: "l",
};
const PATTERN = new RegExp(`[${Object.keys(LOOKALIKE).join("")}]`, "gu");

/** The lower-cased text with lookalike letters of other scripts replaced by their Latin twins. */
export function foldLookalikes(lower: string): string {
  // the common case, plain ASCII, costs one scan
  for (let i = 0; i < lower.length; i++) if (lower.charCodeAt(i) >= 0x0131) return lower.replace(PATTERN, (c) => LOOKALIKE[c]!);
  return lower;
}
