import { hash } from "node:crypto";

/**
 * RFC 6962 Merkle tree hash (MTH), kept incrementally as the "compact range": the roots of the
 * perfect subtrees that make up the first n leaves (one per set bit of n). Appending is O(1)
 * amortised, the root O(log n); memory O(log n), so a chain of any length costs nothing to keep.
 *   leaf hash = SHA-256(0x00 || leaf), node hash = SHA-256(0x01 || left || right)
 */
export class MerkleTree {
  /** Perfect-subtree roots, largest (leftmost) first; heights[i] = log2 of its leaf count. */
  #roots: Buffer[] = [];
  #heights: number[] = [];
  #size = 0;
  #leafBuf = Buffer.alloc(33);
  #nodeBuf = Buffer.alloc(65);

  get size(): number {
    return this.#size;
  }

  /** Appends one leaf (the 32 bytes of a record hash). */
  append(leaf: Buffer): void {
    const lb = this.#leafBuf;
    lb[0] = 0;
    leaf.copy(lb, 1, 0, 32);
    let node: Buffer = hash("sha256", leaf.length === 32 ? lb : Buffer.concat([Buffer.of(0), leaf]), "buffer");
    let height = 0;
    const roots = this.#roots;
    const heights = this.#heights;
    while (roots.length > 0 && heights[heights.length - 1] === height) {
      node = this.#node(roots.pop()!, node);
      heights.pop();
      height++;
    }
    roots.push(node);
    heights.push(height);
    this.#size++;
  }

  /** Appends a record hash given as 64 hex characters. */
  appendHex(hex: string): void {
    this.append(Buffer.from(hex, "hex"));
  }

  /** MTH of the leaves so far, hex; the hash of the empty string for an empty tree (RFC 6962 §2.1). */
  root(): string {
    const roots = this.#roots;
    if (roots.length === 0) return hash("sha256", "", "hex");
    let acc = roots[roots.length - 1];
    for (let i = roots.length - 2; i >= 0; i--) acc = this.#node(roots[i], acc);
    return acc.toString("hex");
  }

  #node(left: Buffer, right: Buffer): Buffer {
    const nb = this.#nodeBuf;
    nb[0] = 1;
    left.copy(nb, 1);
    right.copy(nb, 33);
    return hash("sha256", nb, "buffer");
  }
}

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
