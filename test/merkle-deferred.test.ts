import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { merkleRootOf, MerkleTree } from "../src/chain/merkle.js";

const leaf = (i: number) => createHash("sha256").update(`leaf-${i}`).digest();
const idle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("MerkleTree with leaves hashed in later", () => {
  it("gives the RFC 6962 root whenever it is asked, whether the leaves were folded by a root or by the batch bound, with the event loop run in between or not", async () => {
    await fc.assert(
      fc.asyncProperty(
        // a script of steps: append n leaves, ask for the root, or let the event loop run
        fc.array(fc.oneof(fc.record({ append: fc.integer({ min: 1, max: 5000 }) }), fc.constant({ root: true }), fc.constant({ idle: true })), { maxLength: 8 }),
        async (steps) => {
          const tree = new MerkleTree();
          const leaves: Buffer[] = [];
          for (const step of steps) {
            if ("append" in step) {
              for (let i = 0; i < step.append; i++) {
                const l = leaf(leaves.length);
                leaves.push(l);
                tree.appendHex(l.toString("hex"));
              }
              expect(tree.size).toBe(leaves.length);
            } else if ("root" in step) {
              expect(tree.root()).toBe(merkleRootOf(leaves));
            } else {
              await idle();
              expect(tree.size).toBe(leaves.length);
            }
          }
          expect(tree.root()).toBe(merkleRootOf(leaves));
        },
      ),
      { numRuns: 40 },
    );
  });

  it("keeps Buffer.from's reading of a leaf that is not 64 hex digits", () => {
    for (const odd of ["", "zz", "ab".repeat(31), "AB".repeat(32), "ab".repeat(32) + "cd"]) {
      const tree = new MerkleTree();
      tree.appendHex(odd);
      expect(tree.root()).toBe(merkleRootOf([Buffer.from(odd, "hex")]));
    }
  });
});
