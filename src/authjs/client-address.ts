import { BlockList, isIP } from "node:net";

/**
 * Which `X-Forwarded-For` hops to believe, as Express's `trust proxy` does:
 * - `0` (the default): none. The client is the socket's peer; the header is ignored.
 * - a hop count `n`: the last `n` addresses of the chain (peer included) are your proxies; the
 *   client is the address before them.
 * - a list of addresses / CIDR ranges (and `"loopback"`, `"private"`): walking from the peer
 *   leftwards, every trusted address is skipped; the first untrusted one is the client.
 */
export type TrustedProxies = number | readonly string[];

const PRESETS: Record<string, Array<[string, number]>> = {
  loopback: [
    ["127.0.0.0", 8],
    ["::1", 128],
  ],
  private: [
    ["10.0.0.0", 8],
    ["172.16.0.0", 12],
    ["192.168.0.0", 16],
    ["169.254.0.0", 16],
    ["fc00::", 7],
    ["fe80::", 10],
  ],
};

/** A list entry: an address, `address/prefix`, or a preset name. */
export function isTrustEntry(entry: string): boolean {
  return entry in PRESETS || subnetOf(entry) !== undefined;
}

function subnetOf(entry: string): [string, number, "ipv4" | "ipv6"] | undefined {
  const [address = "", prefixText, extra] = entry.trim().split("/");
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return undefined;
  const max = family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= max)) return undefined;
  return [address, prefix, family === 4 ? "ipv4" : "ipv6"];
}

/** The address without an IPv4-mapped IPv6 prefix, a port or brackets; undefined if it is no IP. */
export function normaliseAddress(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  let address = raw.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (bracketed) address = bracketed[1]!;
  else if (/^[\d.]+:\d+$/.test(address)) address = address.slice(0, address.lastIndexOf(":"));
  if (/^::ffff:[\d.]+$/i.test(address)) address = address.slice(7);
  return isIP(address) ? address : undefined;
}

/** Compiled once per adapter: picks the client's address from the peer and the forwarded headers. */
export class ClientAddressResolver {
  readonly #hops: number | undefined;
  readonly #trusted: BlockList | undefined;

  constructor(trust: TrustedProxies = 0) {
    if (typeof trust === "number") {
      this.#hops = trust;
      return;
    }
    const list = new BlockList();
    for (const entry of trust) {
      for (const [address, prefix] of PRESETS[entry] ?? [subnetOf(entry)!]) {
        list.addSubnet(address, prefix, isIP(address) === 4 ? "ipv4" : "ipv6");
      }
    }
    this.#trusted = list;
  }

  /**
   * `peer` is the socket's address; web `Request`s (App Router, Auth.js v5) carry none, so there
   * the request is taken to have come through the first trusted hop, and with the default (trust
   * nothing) no address is known.
   */
  resolve(peer: string | undefined, forwardedFor: string | undefined, realIp: string | undefined): string | undefined {
    const chain = (forwardedFor ?? "").split(",").map((hop) => hop.trim()).filter(Boolean);
    const from = normaliseAddress(peer);
    if (peer !== undefined && (from === undefined || !this.#trusts(from, 0))) return from;
    if (this.#hops === 0) return undefined;
    // from here the peer (known or implied) is a trusted proxy
    if (chain.length === 0) return normaliseAddress(realIp) ?? from;
    if (this.#hops !== undefined) return normaliseAddress(chain[Math.max(0, chain.length - this.#hops)]);
    for (let i = chain.length - 1; i >= 0; i--) {
      const hop = normaliseAddress(chain[i]);
      // a hop that is no address cannot be judged: record none rather than a wrong one
      if (hop === undefined) return undefined;
      if (!this.#trusts(hop, chain.length - i)) return hop;
    }
    return normaliseAddress(chain[0]);
  }

  /** Whether the address `depth` hops from the app is a proxy of yours. */
  #trusts(address: string, depth: number): boolean {
    if (this.#hops !== undefined) return depth < this.#hops;
    return this.#trusted!.check(address, isIP(address) === 4 ? "ipv4" : "ipv6");
  }
}
