// What the host kernel and tools must give sandboxes besides cgroups, the boundary and the LSM: one
// start-up line each, saying what is there or what is missing with the command that fixes it.
// readHostPrereqFacts reads the host (files and two iptables listings); describeHostPrereqs is pure.
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { SANDBOX_UID_BASE, SANDBOX_UID_RANGE } from './userns.ts';

export type IptablesBackend = 'nft' | 'legacy';

export interface HostPrereqFacts {
  /** /dev/loop-control exists: per-sandbox disks are loop-mounted files. */
  loopControl: boolean;
  /** /proc/filesystems lists overlay: the host engine's storage and the sandboxes' own. */
  overlay: boolean;
  /** br_netfilter is loaded (or built in): /proc/sys/net/bridge exists. */
  brNetfilter: boolean;
  /** ip_vs is loaded (or built in): Swarm's routing mesh in a sandbox needs it in the host kernel. */
  ipVs: boolean;
  /** The backend of the `iptables` the server runs (null: no iptables). */
  iptables: IptablesBackend | null;
  /** Backends whose filter table has the engine's DOCKER-USER chain. */
  dockerChainsIn: IptablesBackend[];
  /** Debian's kernel.unprivileged_userns_clone (null: the kernel has no such switch). */
  unprivilegedUsernsClone: number | null;
  /** Ubuntu's kernel.apparmor_restrict_unprivileged_userns (null: absent). */
  apparmorRestrictsUserns: number | null;
  /** Lines of /etc/subuid and /etc/subgid whose range overlaps the sandboxes' host uids. */
  subidOverlaps: string[];
}

export interface HostPrereqLine {
  ok: boolean;
  line: string;
}

/** Pure: /etc/subuid-style lines (`name:start:count`) that overlap [base, base + range). */
export function overlappingSubids(text: string, base = SANDBOX_UID_BASE, range = SANDBOX_UID_RANGE): string[] {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const m = /^([^:#]+):(\d+):(\d+)$/.exec(line);
    if (!m) continue;
    const start = Number(m[2]);
    const count = Number(m[3]);
    if (start < base + range && base < start + count) out.push(line);
  }
  return out;
}

/** Pure: `iptables -V` output to its backend. */
export function iptablesBackend(versionLine: string): IptablesBackend | null {
  if (/nf_tables/.test(versionLine)) return 'nft';
  if (/legacy/.test(versionLine)) return 'legacy';
  if (/^iptables v\d/.test(versionLine.trim())) return 'legacy'; // before 1.8 there was only legacy
  return null;
}

/** Pure: one line per prerequisite. */
export function describeHostPrereqs(f: HostPrereqFacts): HostPrereqLine[] {
  const lines: HostPrereqLine[] = [];
  lines.push(
    f.loopControl
      ? { ok: true, line: 'host: loop devices: yes (each sandbox gets its own loop-mounted disk)' }
      : { ok: false, line: 'host: loop devices: MISSING (/dev/loop-control): sandboxes cannot get a disk and will not start; fix: modprobe loop (and add "loop" to /etc/modules)' },
  );
  lines.push(
    f.overlay
      ? { ok: true, line: 'host: overlay file system: yes' }
      : { ok: false, line: 'host: overlay file system: MISSING: the engines inside sandboxes cannot store images; fix: modprobe overlay (and add "overlay" to /etc/modules)' },
  );
  lines.push(
    f.brNetfilter
      ? { ok: true, line: 'host: br_netfilter: yes' }
      : { ok: false, line: 'host: br_netfilter: MISSING: traffic between containers on one bridge skips the egress rules; fix: modprobe br_netfilter (and add it to /etc/modules)' },
  );
  lines.push(
    f.ipVs
      ? { ok: true, line: 'host: ip_vs: yes (Swarm services in sandboxes get their routing mesh)' }
      : { ok: false, line: 'host: ip_vs: MISSING: Swarm\'s routing mesh (ingress-mode published ports, service VIPs) is refused in sandboxes, which cannot load modules (publish with mode=host); fix: modprobe ip_vs (and add it to /etc/modules)' },
  );
  if (f.iptables === null) {
    lines.push({ ok: false, line: 'host: iptables: MISSING: the egress rules cannot be set and sandboxes will not start; fix: apt-get install iptables' });
  } else if (f.dockerChainsIn.length === 0) {
    lines.push({ ok: false, line: `host: iptables (${f.iptables}): the engine's DOCKER-USER chain is in no backend yet (is the engine running with its iptables rules on?)` });
  } else if (!f.dockerChainsIn.includes(f.iptables)) {
    const other = f.dockerChainsIn[0]!;
    lines.push({
      ok: false,
      line: `host: iptables: MISMATCH: \`iptables\` is ${f.iptables}, the engine's chains are in ${other}: the egress rules would land where Docker never looks; fix: update-alternatives --set iptables /usr/sbin/iptables-${other}, then restart the server`,
    });
  } else {
    lines.push({ ok: true, line: `host: iptables: ${f.iptables}, the same backend as the engine's chains` });
  }
  const notes: string[] = [];
  if (f.unprivilegedUsernsClone === 0) notes.push('kernel.unprivileged_userns_clone=0 (a lab cannot nest user namespaces, e.g. rootless Docker; sandboxes themselves are unaffected)');
  if (f.apparmorRestrictsUserns === 1) notes.push('kernel.apparmor_restrict_unprivileged_userns=1 (the same, for nested user namespaces only)');
  if (f.subidOverlaps.length) {
    lines.push({
      ok: false,
      line: `host: subordinate ids: host uids ${SANDBOX_UID_BASE}-${SANDBOX_UID_BASE + SANDBOX_UID_RANGE - 1} are the sandboxes' and also given out in /etc/subuid or /etc/subgid (${f.subidOverlaps.join(', ')}): that user's containers would share owners with sandboxes; fix: move that range`,
    });
  } else {
    lines.push({ ok: true, line: `host: user namespaces: sandboxes map host uids ${SANDBOX_UID_BASE}-${SANDBOX_UID_BASE + SANDBOX_UID_RANGE - 1}, given to no one else in /etc/subuid or /etc/subgid${notes.length ? `; note: ${notes.join('; ')}` : ''}` });
  }
  return lines;
}

export interface HostReaders {
  readFile(p: string): string;
  exists(p: string): boolean;
  /** stdout of a program, or null when it fails or is absent. */
  run(cmd: string, args: string[]): string | null;
}

const realReaders: HostReaders = {
  readFile: (p) => fs.readFileSync(p, 'utf8'),
  exists: (p) => fs.existsSync(p),
  run: (cmd, args) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', timeout: 5_000, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch {
      return null;
    }
  },
};

export function readHostPrereqFacts(r: HostReaders = realReaders): HostPrereqFacts {
  const read = (p: string): string | null => {
    try {
      return r.readFile(p);
    } catch {
      return null;
    }
  };
  const num = (p: string): number | null => {
    const t = read(p);
    return t === null || !/^\s*-?\d+\s*$/.test(t) ? null : Number(t.trim());
  };
  const version = r.run('iptables', ['-V']);
  const dockerChainsIn: IptablesBackend[] = [];
  for (const b of ['nft', 'legacy'] as const) {
    if (r.run(`iptables-${b}`, ['-w', '-n', '-L', 'DOCKER-USER']) !== null) dockerChainsIn.push(b);
  }
  return {
    loopControl: r.exists('/dev/loop-control'),
    overlay: /\boverlay\b/.test(read('/proc/filesystems') ?? ''),
    brNetfilter: r.exists('/proc/sys/net/bridge'),
    ipVs: r.exists('/proc/net/ip_vs') || r.exists('/sys/module/ip_vs'),
    iptables: version === null ? null : iptablesBackend(version),
    dockerChainsIn,
    unprivilegedUsernsClone: num('/proc/sys/kernel/unprivileged_userns_clone'),
    apparmorRestrictsUserns: num('/proc/sys/kernel/apparmor_restrict_unprivileged_userns'),
    subidOverlaps: [...overlappingSubids(read('/etc/subuid') ?? ''), ...overlappingSubids(read('/etc/subgid') ?? '')],
  };
}
