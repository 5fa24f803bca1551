/** Attribute names and constants of the hash chain (docs/processors.md, "The chain format"). */
export const CHAIN_ATTR = {
  id: "audit.chain.id",
  seq: "audit.chain.seq",
  prev: "audit.chain.prev",
  hash: "audit.chain.hash",
} as const;

/** Event name of checkpoint records; they are chain records themselves. */
export const CHECKPOINT_EVENT = "audit.checkpoint";

export const CHECKPOINT_ATTR = {
  /** Records covered: seq 1..size, i.e. every record before this checkpoint. */
  size: "audit.checkpoint.size",
  /** `audit.chain.hash` of the record at seq = size. */
  head: "audit.checkpoint.head",
  /** RFC 6962 Merkle tree hash over the `audit.chain.hash` bytes of records 1..size. */
  root: "audit.checkpoint.root",
  /** `sha256` or `hmac-sha256`: how record hashes were made, so a verifier knows whether it needs the key. */
  hashAlg: "audit.checkpoint.hash_alg",
  /** Signature of the previous checkpoint of this chain ("" for the first). */
  prevSignature: "audit.checkpoint.prev_signature",
  /** base64 Ed25519 signature over the signed statement (see `checkpointStatement`); absent without a private key. */
  signature: "audit.checkpoint.signature",
  /** Why it was made: `count`, `interval`, `flush`, `close`. */
  reason: "audit.checkpoint.reason",
  /** true on the checkpoint that closes the chain (IntegrityProcessor.close()). */
  final: "audit.checkpoint.final",
} as const;

/** `audit.chain.prev` of the first record of a chain. */
export const GENESIS_PREV = "0".repeat(64);

export type HashAlg = "sha256" | "hmac-sha256";
