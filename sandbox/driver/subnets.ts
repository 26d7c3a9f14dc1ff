// Session networks get explicit small subnets from our own pool: the engine's default address pools
// run out after about 30 user-defined networks. Pure IPv4 arithmetic, unit-tested.

export function parseCidr(cidr: string): { base: number; prefix: number } {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr.trim());
  if (!m) throw new Error(`not an IPv4 CIDR: "${cidr}"`);
  const octets = m.slice(1, 5).map(Number);
  if (octets.some((o) => o > 255)) throw new Error(`not an IPv4 CIDR: "${cidr}"`);
  const prefix = Number(m[5]);
  if (prefix > 32) throw new Error(`bad prefix in "${cidr}"`);
  const ip = ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { base: (ip & mask) >>> 0, prefix };
}

export function formatIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export interface Subnet {
  subnet: string;
  gateway: string;
}

/**
 * The first subnet of size `/childPrefix` inside `pool` that overlaps none of `used` (CIDRs).
 * Returns null when the pool is exhausted.
 */
export function nextFreeSubnet(pool: string, childPrefix: number, used: string[]): Subnet | null {
  const p = parseCidr(pool);
  if (childPrefix < p.prefix || childPrefix > 30) throw new Error(`cannot split ${pool} into /${childPrefix}`);
  const size = 2 ** (32 - childPrefix);
  const count = 2 ** (childPrefix - p.prefix);
  const taken = used.map((u) => {
    const c = parseCidr(u);
    return { start: c.base, end: c.base + 2 ** (32 - c.prefix) - 1 };
  });
  for (let i = 0; i < count; i++) {
    const start = p.base + i * size;
    const end = start + size - 1;
    if (taken.some((t) => t.start <= end && start <= t.end)) continue;
    return { subnet: `${formatIp(start)}/${childPrefix}`, gateway: formatIp(start + 1) };
  }
  return null;
}
