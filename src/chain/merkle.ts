import { hash } from "node:crypto";

/**
 * RFC 6962 Merkle tree hash (MTH), kept incrementally as the "compact range": the roots of the
 * perfect subtrees that make up the first n leaves (one per set bit of n). Appending is O(1)
 * amortised, the root O(log n); memory O(log n), so a chain of any length costs nothing to keep.
 *   leaf hash = SHA-256(0x00 || leaf), node hash = SHA-256(0x01 || left || right)
 */
export class MerkleTree {
  /** Perfect-subtree roots (hex), largest (leftmost) first; heights[i] = log2 of its leaf count. */
  #roots: string[] = [];
  #heights: number[] = [];
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** Appends one leaf (the 32 bytes of a record hash). */
  append(leaf: Buffer): void {
    this.appendHex(leaf.toString("hex"));
  }

  /**
   * Appends a record hash given as 64 hex characters. Works on hex strings throughout: with
   * `crypto.hash`, hex output is several times cheaper than Buffer output.
   */
  appendHex(hex: string): void {
    let node = hash("sha256", Buffer.from("00" + hex, "hex"), "hex");
    let height = 0;
    const roots = this.#roots;
    const heights = this.#heights;
    while (roots.length > 0 && heights[heights.length - 1] === height) {
      node = nodeHash(roots.pop()!, node);
      heights.pop();
      height++;
    }
    roots.push(node);
    heights.push(height);
    this.#size++;
  }

  /** MTH of the leaves so far, hex; the hash of the empty string for an empty tree (RFC 6962 §2.1). */
  root(): string {
    const roots = this.#roots;
    if (roots.length === 0) return hash("sha256", "", "hex");
    let acc = roots[roots.length - 1];
    for (let i = roots.length - 2; i >= 0; i--) acc = nodeHash(roots[i], acc);
    return acc;
  }
}

const nodeHash = (left: string, right: string): string => hash("sha256", Buffer.from("01" + left + right, "hex"), "hex");

/** RFC 6962 MTH computed recursively from all leaves: the reference the incremental tree is tested against. */
export function merkleRootOf(leaves: Buffer[]): string {
  const mth = (items: Buffer[]): Buffer => {
    if (items.length === 0) return hash("sha256", "", "buffer");
    if (items.length === 1) return hash("sha256", Buffer.concat([Buffer.of(0), items[0]]), "buffer");
    let k = 1;
    while (k * 2 < items.length) k *= 2;
    return hash("sha256", Buffer.concat([Buffer.of(1), mth(items.slice(0, k)), mth(items.slice(k))]), "buffer");
  };
  return mth(leaves).toString("hex");
}
