// Per-session egress policy in the host firewall. Docker's FORWARD chain accepts everything a bridge
// sends outwards, private ranges and link-local (cloud metadata) included, so the rules live in
// DOCKER-USER, which Docker consults first and never rewrites. Every rule matches the session's
// bridge by interface (a learner with NET_ADMIN can change its source address, not its veth's
// bridge) and carries a comment naming the session's network, so it is removed with it.
// Inner containers are NATed by the sandbox and leave through the same bridge: they obey it too.
import dns from 'node:dns/promises';
import fs from 'node:fs';
import net from 'node:net';
import { runCommand } from './command-runner.ts';
import { SandboxError } from './errors.ts';

export type EgressMode = 'none' | 'internet' | 'allowlist';

export interface EgressPolicy {
  mode: EgressMode;
  /** allowlist: hosts, IPs or CIDRs the sandboxes may reach (any port). */
  allow?: string[];
}

/**
 * Never reachable in "internet" mode: RFC 1918, carrier-grade NAT, link-local (169.254.169.254
 * metadata), loopback, "this network", benchmarking, multicast and reserved.
 */
export const BLOCKED_IN_INTERNET_MODE = [
  '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '169.254.0.0/16',
  '127.0.0.0/8', '0.0.0.0/8', '198.18.0.0/15', '224.0.0.0/4', '240.0.0.0/4',
];

const CHAIN = 'DOCKER-USER';
const TAG_PREFIX = 'lablab-egress:';

export function egressTag(networkName: string): string {
  return TAG_PREFIX + networkName;
}

export interface EgressRuleInput {
  bridge: string;
  /** From egressTag(): the comment that lets the rules be found and removed. */
  tag: string;
  policy: EgressPolicy;
  /** Allow-list entries resolved to addresses/CIDRs. */
  allowCidrs: string[];
  /** The host's DNS resolvers: Docker's embedded DNS forwards from the sandbox's own namespace. */
  resolvers: string[];
}

/** Pure: the DOCKER-USER rules (iptables argument lists, without -A/-I) for one session, in order. */
export function planEgressRules(i: EgressRuleInput): string[][] {
  const c = ['-m', 'comment', '--comment', i.tag];
  const from = ['-i', i.bridge];
  const rules: string[][] = [
    // Node to node within the session, and replies to connections that were allowed.
    [...from, '-o', i.bridge, ...c, '-j', 'RETURN'],
    [...from, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', ...c, '-j', 'RETURN'],
  ];
  if (i.policy.mode !== 'none') {
    for (const r of i.resolvers) for (const proto of ['udp', 'tcp']) rules.push([...from, '-d', r, '-p', proto, '--dport', '53', ...c, '-j', 'RETURN']);
  }
  if (i.policy.mode === 'allowlist') for (const a of i.allowCidrs) rules.push([...from, '-d', a, ...c, '-j', 'RETURN']);
  if (i.policy.mode === 'internet') {
    for (const b of BLOCKED_IN_INTERNET_MODE) rules.push([...from, '-d', b, ...c, '-j', 'REJECT', '--reject-with', 'icmp-admin-prohibited']);
  } else {
    rules.push([...from, ...c, '-j', 'REJECT', '--reject-with', 'icmp-admin-prohibited']);
  }
  return rules;
}

/** Pure: `iptables -S DOCKER-USER` lines carrying `tag` (or any of ours when tag is a prefix test). */
export function rulesTagged(listing: string, match: (tag: string) => boolean): string[] {
  return listing.split('\n').filter((l) => {
    const m = /--comment "?([^"\s]+)"?/.exec(l);
    return l.startsWith(`-A ${CHAIN} `) && !!m && m[1]!.startsWith(TAG_PREFIX) && match(m[1]!);
  });
}

/** Reads nameserver lines of resolv.conf (IPv4 only: the session networks are IPv4). */
export function parseResolvers(resolvConf: string): string[] {
  return [...resolvConf.matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => m[1]!).filter((a) => net.isIPv4(a));
}

/** Validates an allow-list entry shape: an IPv4 address, a CIDR, or a host name. */
export function allowEntryKind(entry: string): 'cidr' | 'ip' | 'host' | null {
  const [addr, len, extra] = entry.split('/');
  if (extra !== undefined) return null;
  if (len !== undefined) return net.isIPv4(addr!) && /^\d+$/.test(len) && Number(len) <= 32 ? 'cidr' : null;
  if (net.isIPv4(entry)) return 'ip';
  return /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(entry) ? 'host' : null;
}

export interface EgressFirewall {
  /** Installs the session's rules (idempotent: old rules with the same tag are replaced). Throws when it cannot. */
  apply(tag: string, bridge: string): Promise<void>;
  remove(tag: string): Promise<void>;
  /** Tags of every session rule set present. */
  tags(): Promise<string[]>;
  readonly policy: EgressPolicy;
}

export interface EgressFirewallOptions {
  policy: EgressPolicy;
  /** Runs iptables-restore/iptables (injectable for tests). */
  run?: (cmd: string, args: string[], stdin?: string) => Promise<string>;
  /** The engine host's /etc/resolv.conf (a remote engine's is read through a helper container). */
  resolvConf?: () => string | Promise<string>;
  lookup?: (host: string) => Promise<string[]>;
}

async function runCmd(cmd: string, args: string[], stdin?: string): Promise<string> {
  const r = await runCommand(cmd, args, { timeoutMs: 30_000, input: stdin });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr.trim() || r.error || (r.timedOut ? 'timed out' : `exit ${r.code ?? r.signal}`)}`);
  return r.stdout;
}

export function createEgressFirewall(opts: EgressFirewallOptions): EgressFirewall {
  const run = opts.run ?? runCmd;
  const policy = opts.policy;
  const lookup = opts.lookup ?? (async (h: string) => (await dns.lookup(h, { all: true, family: 4 })).map((a) => a.address));
  let allow: Promise<string[]> | undefined;
  const allowCidrs = () => {
    allow ??= (async () => {
      const out: string[] = [];
      for (const e of policy.allow ?? []) {
        const kind = allowEntryKind(e);
        if (kind === 'cidr' || kind === 'ip') out.push(e);
        else if (kind === 'host') {
          try {
            out.push(...(await lookup(e)));
          } catch (err) {
            throw new SandboxError('sandbox_failed', `SANDBOX_EGRESS_ALLOW: cannot resolve "${e}": ${(err as Error).message}`);
          }
        } else throw new SandboxError('sandbox_failed', `SANDBOX_EGRESS_ALLOW: "${e}" is not a host name, an IPv4 address or a CIDR`);
      }
      return out;
    })();
    allow.catch(() => (allow = undefined)); // a DNS hiccup must not poison every later create
    return allow;
  };
  const resolvers = async () => parseResolvers(await (opts.resolvConf ?? (() => fs.readFileSync('/etc/resolv.conf', 'utf8')))());
  const listing = () => run('iptables', ['-w', '-S', CHAIN]);

  // One iptables-restore per change: atomic, and one process instead of a dozen per session.
  const restore = (lines: string[]) => run('iptables-restore', ['-w', '--noflush'], ['*filter', ...lines, 'COMMIT', ''].join('\n'));

  async function remove(tag: string): Promise<void> {
    const mine = rulesTagged(await listing(), (t) => t === tag);
    if (mine.length) await restore(mine.map((l) => l.replace(/^-A /, '-D ')));
  }

  return {
    policy,
    async apply(tag, bridge) {
      const rules = planEgressRules({ bridge, tag, policy, allowCidrs: await allowCidrs(), resolvers: await resolvers() });
      const stale = rulesTagged(await listing(), (t) => t === tag).map((l) => l.replace(/^-A /, '-D '));
      // Inserted at the top in reverse, so they end up first in DOCKER-USER in the planned order.
      const insert = [...rules].reverse().map((r) => ['-I', CHAIN, '1', ...r].join(' '));
      try {
        await restore([...stale, ...insert]);
      } catch (err) {
        throw new SandboxError('sandbox_failed', `could not install the egress firewall for ${bridge}: ${(err as Error).message}`, { cause: err });
      }
    },
    remove,
    async tags() {
      return [...new Set(rulesTagged(await listing(), () => true).map((l) => /--comment "?([^"\s]+)"?/.exec(l)![1]!))];
    },
  };
}
