import { createHash, createHmac, createPrivateKey, createPublicKey, createSecretKey, sign, verify, type KeyObject } from "node:crypto";
import { jcs } from "./canonical.js";
import type { HashAlg } from "./format.js";

/** A secret given as a string is taken as its UTF-8 bytes. */
export type SecretInput = string | Buffer | Uint8Array | KeyObject;
/** An Ed25519 key as a PEM string, PEM/DER buffer, or KeyObject. */
export type AsymmetricKeyInput = string | Buffer | KeyObject;

export function secretKey(input: SecretInput | undefined): KeyObject | undefined {
  if (input === undefined || input === "") return undefined;
  if (typeof input === "object" && "type" in input && (input as KeyObject).type === "secret") return input as KeyObject;
  return createSecretKey(typeof input === "string" ? Buffer.from(input, "utf8") : Buffer.from(input as Uint8Array));
}

/** Hashes a canonical record: HMAC-SHA256 with a key, plain SHA-256 without; lower-case hex. */
export function recordHasher(key: KeyObject | undefined): { alg: HashAlg; hash: (canonical: string) => string } {
  if (key) return { alg: "hmac-sha256", hash: (c) => createHmac("sha256", key).update(c).digest("hex") };
  return { alg: "sha256", hash: (c) => createHash("sha256").update(c).digest("hex") };
}

export function privateKey(input: AsymmetricKeyInput): KeyObject {
  return typeof input === "object" && "asymmetricKeyType" in input ? (input as KeyObject) : createPrivateKey(input as string | Buffer);
}

export function publicKey(input: AsymmetricKeyInput): KeyObject {
  if (typeof input === "object" && "asymmetricKeyType" in input) {
    const k = input as KeyObject;
    return k.type === "private" ? createPublicKey(k) : k;
  }
  return createPublicKey(input as string | Buffer);
}

/** What a checkpoint signs. */
export interface CheckpointStatement {
  chain: string;
  size: number;
  head: string;
  root: string;
  hashAlg: HashAlg;
  prevSignature: string;
}

/** The signed bytes: JCS of the statement, prefixed with a domain tag so no other message can be confused with it. */
export function checkpointStatement(s: CheckpointStatement): Buffer {
  return Buffer.from("otel-auth-audit checkpoint v1\n" + jcs(s), "utf8");
}

export function signCheckpoint(s: CheckpointStatement, key: KeyObject): string {
  return sign(null, checkpointStatement(s), key).toString("base64");
}

export function verifyCheckpoint(s: CheckpointStatement, signature: string, key: KeyObject): boolean {
  try {
    return verify(null, checkpointStatement(s), key, Buffer.from(signature, "base64"));
  } catch {
    return false;
  }
}
