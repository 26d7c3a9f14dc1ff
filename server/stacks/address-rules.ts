// Which addresses a stack URL may lead to: public ones only, unless the host allowed a range
// (STACK_URL_ALLOW_ADDRESSES, e.g. a test's 127.0.0.1 or an intranet mirror). Node's BlockList does the matching.
import net from 'node:net';

const BLOCKED_V4: [string, number][] = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24],
  ['224.0.0.0', 4], ['240.0.0.0', 4],
];
const BLOCKED_V6: [string, number][] = [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96], ['2001:db8::', 32]];

const blocked = new net.BlockList();
for (const [a, p] of BLOCKED_V4) blocked.addSubnet(a, p, 'ipv4');
for (const [a, p] of BLOCKED_V6) blocked.addSubnet(a, p, 'ipv6');

/** `cidrs` like "127.0.0.1/32" or "10.1.0.0/16"; throws on a malformed one. */
export function allowedRanges(cidrs: string[]): net.BlockList {
  const list = new net.BlockList();
  for (const c of cidrs) {
    const [addr, bits] = c.split('/');
    const type = net.isIPv4(addr ?? '') ? 'ipv4' : net.isIPv6(addr ?? '') ? 'ipv6' : undefined;
    const prefix = Number(bits ?? (type === 'ipv4' ? 32 : 128));
    if (!type || !Number.isInteger(prefix) || prefix < 0 || prefix > (type === 'ipv4' ? 32 : 128)) throw new Error(`"${c}" is not an address range like 127.0.0.1/32`);
    list.addSubnet(addr!, prefix, type);
  }
  return list;
}

/** Why this address may not be fetched from, or undefined when it may. */
export function refusedAddress(address: string, allowed?: net.BlockList): string | undefined {
  const type: net.IPVersion | undefined = net.isIPv4(address) ? 'ipv4' : net.isIPv6(address) ? 'ipv6' : undefined;
  if (!type) return `"${address}" is not an IP address`;
  // An IPv4 address written as IPv6 (::ffff:10.0.0.1) is judged as the IPv4 one.
  const mapped = type === 'ipv6' ? /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1] : undefined;
  const [a, t]: [string, net.IPVersion] = mapped ? [mapped, 'ipv4'] : [address, type];
  if (allowed?.check(a, t)) return undefined;
  if (blocked.check(a, t)) return `${a} is a private, loopback or link-local address`;
  return undefined;
}
