/**
 * IP address management, pure: subnets as numbers, Docker's default address pools, picking
 * a subnet that collides with nothing the host routes or another network has, and handing
 * out addresses inside one. The network store keeps what is taken; this module decides.
 *
 * @module
 */

/** An IPv4 subnet: its first address as an unsigned 32-bit number, and its prefix length. */
export interface Subnet {
  base: number;
  prefix: number;
}

/** A pool subnets are carved from: `base` split into subnets of `/size` (Docker's format). */
export interface AddressPool {
  base: Subnet;
  size: number;
}

/** The dotted quad as a number. Throws on anything that is not one. */
export function ipToInt(ip: string): number {
  const parts = ip.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new Error(`invalid IPv4 address: ${ip}`);
  }
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

/** A number as a dotted quad. */
export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/**
 * Parses `A.B.C.D/N`. Host bits must be zero, as Docker requires for `--subnet`.
 *
 * @example
 * ```ts
 * formatSubnet(parseSubnet("172.18.0.0/16")); // "172.18.0.0/16"
 * ```
 */
export function parseSubnet(cidr: string): Subnet {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(cidr);
  if (!m || Number(m[2]) > 32) throw new Error(`invalid CIDR address: ${cidr}`);
  const prefix = Number(m[2]);
  const addr = ipToInt(m[1]);
  if ((addr & ~mask(prefix)) >>> 0 !== 0) {
    throw new Error(
      `invalid subnet ${cidr}: it has host bits set (network is ${
        intToIp((addr & mask(prefix)) >>> 0)
      }/${prefix})`,
    );
  }
  return { base: addr, prefix };
}

/** `A.B.C.D/N`. */
export function formatSubnet(s: Subnet): string {
  return `${intToIp(s.base)}/${s.prefix}`;
}

/** The number of addresses in a subnet. */
function size(s: Subnet): number {
  return 2 ** (32 - s.prefix);
}

/** True when two subnets share any address. */
export function overlaps(a: Subnet, b: Subnet): boolean {
  return a.base < b.base + size(b) && b.base < a.base + size(a);
}

/** True when `ip` lies in `s`. */
export function contains(s: Subnet, ip: number): boolean {
  return ip >= s.base && ip < s.base + size(s);
}

/**
 * Docker's default address pools: 172.17.0.0/16 through 172.31.0.0/16, then
 * 192.168.0.0/16 in /20s. The first is what the default `bridge` network gets when free.
 */
export const DEFAULT_POOLS: readonly AddressPool[] = [
  ...Array.from({ length: 15 }, (_, i) => ({
    base: { base: ipToInt(`172.${17 + i}.0.0`), prefix: 16 },
    size: 16,
  })),
  { base: parseSubnet("192.168.0.0/16"), size: 20 },
];

/**
 * Parses pools in Docker's daemon syntax, `base=172.30.0.0/16,size=24`, several separated by
 * spaces or semicolons.
 *
 * @example
 * ```ts
 * parsePools("base=10.10.0.0/16,size=24"); // one pool of 256 /24 subnets
 * ```
 */
export function parsePools(text: string): AddressPool[] {
  return text.split(/[\s;]+/).filter((s) => s).map((entry) => {
    const fields = Object.fromEntries(entry.split(",").map((kv) => kv.split("=", 2)));
    const base = parseSubnet(fields.base ?? "");
    const sz = Number(fields.size);
    if (!Number.isInteger(sz) || sz < base.prefix || sz > 30) {
      throw new Error(
        `invalid address pool ${entry}: size must be between /${base.prefix} and /30`,
      );
    }
    return { base, size: sz };
  });
}

/** Every candidate subnet of the pools, in order. */
export function* candidates(pools: readonly AddressPool[]): Generator<Subnet> {
  for (const p of pools) {
    const step = 2 ** (32 - p.size);
    for (let b = p.base.base; b < p.base.base + size(p.base); b += step) {
      yield { base: b, prefix: p.size };
    }
  }
}

/**
 * The first candidate of `pools` that overlaps none of `taken` (the host's routes and the
 * other networks' subnets), or null when the pools are exhausted.
 */
export function pickSubnet(pools: readonly AddressPool[], taken: readonly Subnet[]): Subnet | null {
  for (const c of candidates(pools)) {
    if (!taken.some((t) => overlaps(c, t))) return c;
  }
  return null;
}

/** The gateway Docker gives a subnet: its first usable address. */
export function defaultGateway(s: Subnet): number {
  return s.base + 1;
}

/**
 * The lowest free address of `s` for a container: not the network or broadcast address,
 * not the gateway, not in `used`. Null when the subnet is full.
 */
export function allocateAddress(
  s: Subnet,
  gateway: number,
  used: ReadonlySet<number>,
): number | null {
  const last = s.base + size(s) - 1; // broadcast
  for (let ip = s.base + 1; ip < last; ip++) {
    if (ip !== gateway && !used.has(ip)) return ip;
  }
  return null;
}

/**
 * Docker's MAC address for a container address: 02:42 followed by the four bytes of the
 * IPv4 address, so that it is unique on the network and stable for the address.
 */
export function macForAddress(ip: number): string {
  const bytes = [0x02, 0x42, ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255];
  return bytes.map((b) => b.toString(16).padStart(2, "0")).join(":");
}
