// The base disk of the VM, built once per set of inputs (build script, suite, packages, ssh key) and
// kept in the cache: <cache>/base-<suite>-<key>/{base.qcow2,vmlinuz,initrd.img}.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { mustRun } from './proc.ts';
import { HERE, type Paths } from './paths.ts';

/** What a Debian host of ours has: the brief's list. setup.sh's own list is added to it (below). */
export const BASE_PACKAGES = [
  'linux-image-amd64', 'systemd-sysv', 'dbus', 'udev', 'kmod', 'docker.io', 'apparmor', 'apparmor-utils',
  'iproute2', 'iptables', 'ca-certificates', 'openssh-server', 'e2fsprogs', 'dtach', 'curl', 'procps',
  'busybox-static', 'git', 'xz-utils', 'netbase', 'less',
];

/** The packages setup.sh would apt-get install on a fresh host (its `missing+=(pkg)` lines), so setup finds them all. */
export function setupPackages(setupSh: string): string[] {
  return [...setupSh.matchAll(/missing\+=\(([\w.+-]+)\)/g)].map((m) => m[1]!);
}

export function basePackages(setupSh: string): string[] {
  return [...new Set([...BASE_PACKAGES, ...setupPackages(setupSh)])].sort();
}

export function baseKey(parts: { script: string; suite: string; packages: string[]; pubkey: string }): string {
  const h = crypto.createHash('sha256');
  h.update(parts.script).update('\0').update(parts.suite).update('\0').update(parts.packages.join(' ')).update('\0').update(parts.pubkey.trim());
  return h.digest('hex').slice(0, 12);
}

export interface BaseImage {
  key: string;
  dir: string;
  disk: string;
  kernel: string;
  initrd: string;
}

/** The host's Debian mirror, as setup.sh finds it (never hard-coded); DEBIAN_MIRROR overrides. */
export function debianMirror(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DEBIAN_MIRROR) return env.DEBIAN_MIRROR;
  const texts: string[] = [];
  for (const f of ['/etc/apt/sources.list', ...listDir('/etc/apt/sources.list.d').map((f) => path.join('/etc/apt/sources.list.d', f))]) {
    try {
      texts.push(fs.readFileSync(f, 'utf8'));
    } catch {
      // absent
    }
  }
  const uris = texts.flatMap((t) => [...t.matchAll(/^\s*URIs:\s*(.+)$/gm)].flatMap((m) => m[1]!.split(/\s+/)).concat([...t.matchAll(/^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)/gm)].map((m) => m[1]!)));
  const mirror = uris.find((u) => /\/debian\/?$/.test(u));
  if (!mirror) throw new Error('no Debian mirror found in /etc/apt/sources*; set DEBIAN_MIRROR=<url>');
  return mirror;
}

function listDir(d: string): string[] {
  try {
    return fs.readdirSync(d);
  } catch {
    return [];
  }
}

export function baseImageFor(paths: Paths, suite: string, projectRoot: string): BaseImage {
  const script = fs.readFileSync(path.join(HERE, 'build-base.sh'), 'utf8');
  const packages = basePackages(fs.readFileSync(path.join(projectRoot, 'sandbox/host/setup.sh'), 'utf8'));
  const key = baseKey({ script, suite, packages, pubkey: fs.readFileSync(paths.sshKey + '.pub', 'utf8') });
  const dir = path.join(paths.cache, `base-${suite}-${key}`);
  return { key, dir, disk: path.join(dir, 'base.qcow2'), kernel: path.join(dir, 'vmlinuz'), initrd: path.join(dir, 'initrd.img') };
}

/** Builds the base image unless the cache has it. */
export async function ensureBaseImage(paths: Paths, suite: string, projectRoot: string, say: (m: string) => void): Promise<BaseImage> {
  const base = baseImageFor(paths, suite, projectRoot);
  if (fs.existsSync(base.disk) && fs.existsSync(base.kernel)) {
    say(`base image ${suite} ${base.key} (cached)`);
    return base;
  }
  const packages = basePackages(fs.readFileSync(path.join(projectRoot, 'sandbox/host/setup.sh'), 'utf8'));
  say(`building base image ${suite} ${base.key} with debootstrap (several minutes; log: ${base.dir}.log)`);
  fs.rmSync(base.dir + '.log', { force: true });
  await mustRun('nice', ['-n', '10', 'bash', path.join(HERE, 'build-base.sh'), base.dir, suite, debianMirror(), paths.sshKey + '.pub', ...packages], {
    timeoutMs: 45 * 60_000,
    logFile: base.dir + '.log',
  });
  return base;
}
