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
  /**
   * Leaves appended but not yet hashed in: an append is a push, and the hashing (two SHA-256 calls
   * per leaf, amortised) runs for FOLD_BATCH leaves at once, or when a root is asked for. Folded
   * one leaf at a time (a callback per request) the same hashing cost several times as much.
   */
  #pending: string[] = [];

  get size(): number {
    return this.#size + this.#pending.length;
  }

  /** Appends one leaf (the 32 bytes of a record hash). */
  append(leaf: Buffer): void {
    this.appendHex(leaf.toString("hex"));
  }

  /** Appends a record hash given as 64 hex characters. */
  appendHex(hex: string): void {
    if (this.#pending.push(hex) >= FOLD_BATCH) this.#fold();
  }

  /** MTH of the leaves so far, hex; the hash of the empty string for an empty tree (RFC 6962 §2.1). */
  root(): string {
    this.#fold();
    const roots = this.#roots;
    if (roots.length === 0) return hash("sha256", "", "hex");
    let acc = roots[roots.length - 1];
    for (let i = roots.length - 2; i >= 0; i--) acc = nodeHash(roots[i], acc);
    return acc;
  }

  #fold(): void {
    const pending = this.#pending;
    if (pending.length === 0) return;
    this.#pending = [];
    const roots = this.#roots;
    const heights = this.#heights;
    for (const hex of pending) {
      let node = leafHash(hex);
      let height = 0;
      while (roots.length > 0 && heights[heights.length - 1] === height) {
        node = nodeHash(roots.pop()!, node);
        heights.pop();
        height++;
      }
      roots.push(node);
      heights.push(height);
      this.#size++;
    }
  }
}

/**
 * The same compact range fed with leaf hashes (SHA-256(0x00 || record hash)) computed elsewhere:
 * verify's workers hash the leaves, the thread that follows the chain only folds nodes, on 32-byte
 * buffers without hex.
 */
export class MerkleLeafRange {
  /** Perfect-subtree roots as latin1 strings of their 32 bytes (cheaper from `crypto.hash` than Buffers). */
  #roots: string[] = [];
  #heights: number[] = [];
  #input = Buffer.alloc(65, 1);

  /** Appends the leaf hashes at [from, to) of `leaves` (32 bytes each). */
  append(leaves: Uint8Array, from: number, to: number): void {
    const roots = this.#roots;
    const heights = this.#heights;
    const input = this.#input;
    for (let i = from; i < to; ) {
      let height = 0;
      let node: string;
      if (i + 1 < to && heights[heights.length - 1] !== 0) {
        // an even count so far: this leaf and the next make a node, hashed straight from the bytes
        input.set(leaves.subarray(i * 32, i * 32 + 64), 1);
        node = hash("sha256", input, "binary");
        height = 1;
        i += 2;
      } else {
        node = Buffer.from(leaves.buffer, leaves.byteOffset + i * 32, 32).toString("latin1");
        i++;
      }
      while (heights.length > 0 && heights[heights.length - 1] === height) {
        input.write(roots.pop()!, 1, "latin1");
        input.write(node, 33, "latin1");
        node = hash("sha256", input, "binary");
        heights.pop();
        height++;
      }
      roots.push(node);
      heights.push(height);
    }
  }

  /** MTH of the leaves so far, hex (RFC 6962 §2.1; the hash of the empty string for none). */
  root(): string {
    const roots = this.#roots;
    if (roots.length === 0) return hash("sha256", "", "hex");
    let acc = roots[roots.length - 1];
    for (let i = roots.length - 2; i >= 0; i--) {
      this.#input.write(roots[i], 1, "latin1");
      this.#input.write(acc, 33, "latin1");
      acc = hash("sha256", this.#input, "binary");
    }
    return Buffer.from(acc, "binary").toString("hex");
  }
}

/** Leaves hashed in together: at most 64 hex strings wait (about 7 KB); one fold (~130 SHA-256) keeps a request under ~0.2 ms. */
const FOLD_BATCH = 64;

// one buffer each for leaf and node inputs: no concatenated hex strings per hash
const leafInput = Buffer.alloc(33);
const nodeInput = Buffer.alloc(65, 1);
const leafHash = (hex: string): string => {
  // anything but 64 hex digits keeps the old byte semantics (Buffer.from stops at a bad digit)
  if (hex.length !== 64 || leafInput.write(hex, 1, 32, "hex") !== 32) return hash("sha256", Buffer.from("00" + hex, "hex"), "hex");
  return hash("sha256", leafInput, "hex");
};
const nodeHash = (left: string, right: string): string => {
  nodeInput.write(left, 1, 32, "hex");
  nodeInput.write(right, 33, 32, "hex");
  return hash("sha256", nodeInput, "hex");
};

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
