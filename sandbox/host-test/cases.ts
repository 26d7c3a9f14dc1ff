// The hosts the test boots, and how a case's measurements become its result line and JSON entry.
// Pure: files' text in, results out (cases.test.ts).

export interface HostCase {
  n: number;
  /** The "host" field of the JSON. */
  host: string;
  suite: string;
  title: string;
  /** Shell run in the VM before the measurements (as root). Empty: the host exactly as installed. */
  prepare: string;
}

const waitDocker = 'for i in $(seq 1 120); do docker info >/dev/null 2>&1 && break; sleep 2; done; docker info --format "driver {{.CgroupDriver}}"';

export const CASES: HostCase[] = [
  { n: 1, host: 'debian-12', suite: 'bookworm', title: 'Debian 12 as installed (Docker as packaged, AppArmor on)', prepare: waitDocker },
  {
    n: 2,
    host: 'debian-12',
    suite: 'bookworm',
    title: 'Debian 12 with the cgroupfs driver in /etc/docker/daemon.json',
    prepare: `mkdir -p /etc/docker && printf '%s\\n' '{"exec-opts":["native.cgroupdriver=cgroupfs"]}' >/etc/docker/daemon.json && systemctl restart docker && ${waitDocker}`,
  },
];

export interface CaseResult {
  host: string;
  cgroup: 1 | 2 | null;
  driver: string | null;
  lsm: string | null;
  sandbox_ready: boolean;
  limits_enforced: boolean;
  routes_refused: boolean;
  labs_verified: boolean;
}

export interface TapSummary {
  tests: number;
  pass: number;
  fail: number;
  skipped: number;
  cancelled: number;
  exit: number | null;
  failed: string[];
}

export function parseTap(text: string | undefined): TapSummary | undefined {
  if (!text) return undefined;
  const n = (k: string) => Number(new RegExp(`^# ${k} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  const exit = /^# exit (\d+)/m.exec(text);
  const failed = [...text.matchAll(/^\s*not ok \d+ - (.*)$/gm)].map((m) => m[1]!.trim());
  return { tests: n('tests'), pass: n('pass'), fail: n('fail'), skipped: n('skipped'), cancelled: n('cancelled'), exit: exit ? Number(exit[1]) : null, failed };
}

/** Passed means: ran to the end, at least one test passed, none failed, none skipped (a skip proves nothing). */
export function tapPassed(t: TapSummary | undefined): boolean {
  return !!t && t.exit === 0 && t.pass > 0 && t.fail === 0 && t.cancelled === 0 && t.skipped === 0;
}

export function parseFacts(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of (text ?? '').split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/** The server's start-up lines that say what it found: cgroups, limits, LSM. */
export function startupLines(log: string | undefined): string[] {
  return (log ?? '').split('\n').filter((l) => /cgroup|limits|apparmor|selinux|\blsm\b|refus|listening on|fatal|error/i.test(l) && !/^\[setup\]/.test(l)).map((l) => l.trim()).slice(0, 12);
}

export interface Measured {
  facts?: string;
  startLog?: string;
  start?: string;
  learner?: Record<string, any>;
  limitsTap?: string;
  routesTap?: string;
  verifyExit?: string;
  verifyLog?: string;
}

/** The sandbox limits npm start applies by default (README: SANDBOX_MEMORY_MIB 2048, SANDBOX_PIDS 1024). */
export const DEFAULT_LIMITS = { memoryBytes: 2048 * 1024 * 1024, pids: 1024 };

export function limitsFromLearner(l: Record<string, any> | undefined): { ok: boolean; why: string } {
  if (!l || l.sandbox_ready !== true) return { ok: false, why: 'no sandbox to measure' };
  const mem = typeof l.memory_max_bytes === 'number' ? l.memory_max_bytes : Infinity;
  const pids = typeof l.pids_max === 'number' ? l.pids_max : Infinity;
  const problems: string[] = [];
  if (!(mem <= DEFAULT_LIMITS.memoryBytes)) problems.push(`memory.max ${l.memory_max_bytes}`);
  if (!(pids <= DEFAULT_LIMITS.pids)) problems.push(`pids.max ${l.pids_max}`);
  if (l.fork_bomb?.contained !== true) problems.push(`fork bomb not contained (forked ${l.fork_bomb?.forked})`);
  if (l.memory_hog?.contained !== true) problems.push('memory hog not contained');
  const s = l.survived ?? {};
  if (!(s.running && s.engine && s.terminal)) problems.push(`after: running ${s.running}, engine ${s.engine}, terminal ${s.terminal}`);
  return { ok: problems.length === 0, why: problems.length ? problems.join('; ') : `memory.max ${mem}, pids.max ${pids}, fork bomb and memory hog contained` };
}

export function caseResult(c: HostCase, m: Measured): CaseResult {
  const f = parseFacts(m.facts);
  const cgroup = f.cgroup_fs === 'cgroup2fs' ? 2 : f.cgroup_fs ? 1 : null;
  const lsm = f.apparmor_enabled === 'Y' ? 'apparmor' : f.selinux === 'present' ? 'selinux' : f.cgroup_fs ? 'none' : null;
  const driver = f.docker_driver && /^(systemd|cgroupfs)$/.test(f.docker_driver) ? f.docker_driver : null;
  return {
    host: c.host,
    cgroup,
    driver,
    lsm,
    sandbox_ready: m.learner?.sandbox_ready === true,
    limits_enforced: limitsFromLearner(m.learner).ok && tapPassed(parseTap(m.limitsTap)),
    routes_refused: tapPassed(parseTap(m.routesTap)),
    labs_verified: /^exit=0\s*$/.test(m.verifyExit ?? ''),
  };
}

const yes = (b: boolean) => (b ? 'yes' : 'NO');
const tapText = (t: TapSummary | undefined) => (t ? `${t.pass} pass, ${t.fail} fail, ${t.skipped} skipped${t.failed.length ? ` (failed: ${t.failed.slice(0, 3).join('; ')})` : ''}` : 'not run');

/** One human line per case (the details are in its log folder). */
export function caseLine(c: HostCase, r: CaseResult, m: Measured, logDir: string): string {
  const lim = limitsFromLearner(m.learner);
  const start = startupLines(m.startLog).filter((l) => /cgroup|apparmor|selinux|lsm|refus/i.test(l)).join(' / ') || 'no cgroup or LSM line';
  const listening = /listening=1/.test(m.start ?? '');
  const inner = m.learner?.inner_container;
  return [
    `case ${c.n} ${c.host} (${c.title}): cgroup v${r.cgroup ?? '?'}, driver ${r.driver ?? '?'}, lsm ${r.lsm ?? '?'}`,
    `start: ${listening ? 'listening' : 'NOT listening'}; "${start}"`,
    `sandbox ready: ${yes(r.sandbox_ready)}${m.learner?.error ? ` (${m.learner.error})` : ''}${inner ? `; inner docker run: ${inner.ran ? 'ran' : 'FAILED'}` : ''}`,
    `limits enforced: ${yes(r.limits_enforced)} (${lim.why}; cgroups test: ${tapText(parseTap(m.limitsTap))})`,
    `routes refused: ${yes(r.routes_refused)} (${tapText(parseTap(m.routesTap))})`,
    `labs verified: ${yes(r.labs_verified)} (${(m.verifyExit ?? 'not run').trim()})`,
    `logs: ${logDir}`,
  ].join(' | ');
}
