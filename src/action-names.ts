/**
 * Action names compared the way a reader of the trail would: `Admin:ban-user`, `ADMIN/ban_user`,
 * `ａｄｍｉｎ.ban user` and `admin:ban-user` are one action. Access rules compare this form, never the
 * raw spelling.
 */

import { foldLookalikes } from "./lookalikes.js";

const SEPARATORS = /[\s:/._\-\u2010-\u2015\u2212]+/gu;

/** NFKC (fullwidth and compatibility forms), lower case, lookalike letters folded, every run of separators or whitespace one `:`, trimmed. */
export function normalizeAction(action: string): string {
  return foldLookalikes(action.normalize("NFKC").toLowerCase()).replace(SEPARATORS, ":").replace(/^:+|:+$/g, "");
}

/**
 * Namespaces only the server writes: admin actions, the detectors' signals, the audit pipeline's own
 * records. Compared without separators, so `brute_force`, `bruteforce` and `Brute-Force` match alike.
 */
const SERVER_ONLY_PREFIXES = ["admin", "bruteforce", "audit", "ratelimit", "impersonat"];

/** Whether a client may not report this action on its own (an admin may). */
export function isServerOnlyAction(action: string): boolean {
  const compact = normalizeAction(action).replace(/:/g, "");
  return SERVER_ONLY_PREFIXES.some((p) => compact.startsWith(p));
}
