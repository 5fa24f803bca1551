import { createHash, createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { HMAC_MESSAGE_AT, hmacSha256Hex, hmacSha256Into } from "../src/chain/keys.js";
import { MerkleLeafRange, merkleRootOf } from "../src/chain/merkle.js";

describe("hmacSha256Into", () => {
  it("is HMAC-SHA256 of the bytes written after the pad block, for keys shorter and longer than a block", () => {
    for (const keyLength of [0, 1, 32, 64, 65, 200]) {
      const key = randomBytes(keyLength);
      const into = hmacSha256Into(key);
      const hex = hmacSha256Hex(key);
      for (const length of [0, 1, 55, 56, 64, 700, 5000]) {
        const message = randomBytes(length);
        const buf = Buffer.alloc(HMAC_MESSAGE_AT + length + 10, 0xaa);
        message.copy(buf, HMAC_MESSAGE_AT);
        const expected = createHmac("sha256", key).update(message).digest();
        expect(into(buf, HMAC_MESSAGE_AT + length, "hex")).toBe(expected.toString("hex"));
        expect(Buffer.from(into(buf, HMAC_MESSAGE_AT + length, "binary"), "latin1")).toEqual(expected);
        expect(hex(message.toString("latin1"))).toBe(createHmac("sha256", key).update(message.toString("latin1")).digest("hex"));
      }
    }
  });
});

describe("MerkleLeafRange", () => {
  it("gives the RFC 6962 root of the leaves appended so far, however they are cut into batches", () => {
    const records = Array.from({ length: 70 }, (_, i) => createHash("sha256").update(String(i)).digest());
    const leaves = Buffer.concat(records.map((r) => createHash("sha256").update(Buffer.concat([Buffer.of(0), r])).digest()));
    for (const step of [1, 3, 7, 64]) {
      const range = new MerkleLeafRange();
      expect(range.root()).toBe(merkleRootOf([]));
      for (let from = 0; from < records.length; from += step) {
        const to = Math.min(records.length, from + step);
        range.append(leaves, from, to);
        expect(range.root()).toBe(merkleRootOf(records.slice(0, to)));
      }
    }
  });
});
