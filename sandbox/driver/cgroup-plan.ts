// Pure: what the host's cgroups look like + the limits in, a plan out (which cgroup dirs to make, which
// files to write, the CgroupParent to give the engine) or the reason the limits cannot be enforced.
// With the cgroupfs driver the hard limits sit on a parent cgroup ABOVE the sandbox's private cgroup
// namespace root. With Docker's systemd driver (the default on current Debian and Ubuntu) systemd owns
// the tree: sandboxes go into lablab.slice and the limits are the container's own, on its scope. Both
// are out of the learner's reach: the limit files belong to host root, and root in a sandbox is an
// unprivileged host uid (userns.ts); on cgroup v2, nsdelegate also forbids writing a namespace root's
// own limits.
import type { SandboxLimits } from './types.ts';

/** v1: only v1 hierarchies; hybrid: v1 controllers plus an empty cgroup2 at unified/; v2: one cgroup2 tree. */
export type CgroupMode = 'v1' | 'hybrid' | 'v2' | 'none';

/** What was read from the host (the cgroup filesystem and `docker info`). */
export interface CgroupFacts {
  mode: CgroupMode;
  /** v1/hybrid: controllers with a mounted v1 hierarchy. v2: the root's cgroup.controllers. */
  controllers: string[];
  /** v2: controllers already enabled for the root's children (cgroup.subtree_control). */
  subtreeControl: string[];
  /** The host engine's CgroupDriver ("cgroupfs" | "systemd"), when known. */
  engineDriver?: string;
  /** The host engine's CgroupVersion ("1" | "2"), when known. */
  engineVersion?: string;
}

export type CgroupStep =
  | { kind: 'mkdir'; path: string }
  /** `optional`: skipped when the kernel does not offer the file (e.g. swap accounting is off). */
  | { kind: 'write'; path: string; value: string; optional?: boolean };

export type CgroupPlan =
  | {
      ok: true;
      mode: CgroupMode;
      /** HostConfig.CgroupParent. */
      parent: string;
      /** Paths relative to the cgroup root, in order. */
      steps: CgroupStep[];
      /** What is enforced, for people: "memory 2048 MiB, pids 1024, cpu shares 512". */
      enforced: string;
      /** Where, for people (default: the per-sandbox parent /lablab/<id>). */
      where?: string;
    }
  | { ok: false; mode: CgroupMode; reason: string };

/** Parent directory (under each hierarchy on v1, under the root on v2) that holds one cgroup per sandbox. */
export const CGROUP_DIR = 'lablab';

/**
 * CPU weight of /lablab, the common parent of every sandbox: a quarter of the default (1024 shares on
 * v1, weight 100 on v2), so that under contention all sandboxes together weigh a quarter of the
 * server or the host engine (each at the default), and a room of learners' builds cannot starve
 * keystroke echo, check ticks or new creates. Only a weight: idle CPU still goes to the sandboxes.
 */
export const PARENT_CPU_SHARES = 256;
export const PARENT_CPU_WEIGHT = 25;

/** Docker's cpu shares (2..262144, default 1024) to cgroup v2's cpu.weight (1..10000, default 100), linearly. */
export function cpuSharesToWeight(shares: number): number {
  const s = Math.min(262_144, Math.max(2, shares));
  return 1 + Math.floor(((s - 2) * 9_999) / 262_142);
}

const MEMORY = 'memory';
const PIDS = 'pids';
const CPU = 'cpu';

/** The slice all sandboxes share under Docker's systemd cgroup driver. */
export const SYSTEMD_SLICE = 'lablab.slice';

function modeName(mode: CgroupMode): string {
  return mode === 'hybrid' ? 'cgroup v1 (hybrid)' : mode === 'none' ? 'no cgroups' : `cgroup ${mode}`;
}

function engineMismatch(f: CgroupFacts, want: string): string | undefined {
  if (f.engineVersion !== undefined && f.engineVersion !== want) {
    return `the host engine reports cgroup v${f.engineVersion} but /sys/fs/cgroup is ${modeName(f.mode)}; restart dockerd so both agree`;
  }
  return undefined;
}

/** Docker's systemd driver: systemd makes and limits each sandbox's scope in our slice. */
function planSystemd(f: CgroupFacts, limits: SandboxLimits, want: string): CgroupPlan {
  const bad = engineMismatch(f, want);
  if (bad) return { ok: false, mode: f.mode, reason: bad };
  const has = (c: string) => f.controllers.includes(c);
  const missing = [MEMORY, PIDS].filter((c) => !has(c));
  if (missing.length) return { ok: false, mode: f.mode, reason: `no ${missing.join(' or ')} controller is available at /sys/fs/cgroup` };
  const cpu = has(CPU) ? (want === '2' ? `cpu weight ${cpuSharesToWeight(limits.cpuShares)} (shares ${limits.cpuShares})` : `cpu shares ${limits.cpuShares}`) : 'cpu not limited (no cpu controller)';
  return { ok: true, mode: f.mode, parent: SYSTEMD_SLICE, steps: [], enforced: `memory ${limits.memoryMiB} MiB, pids ${limits.pids}, ${cpu}`, where: `each sandbox's scope in ${SYSTEMD_SLICE} (systemd driver)` };
}

export function planCgroups(f: CgroupFacts, limits: SandboxLimits, id: string): CgroupPlan {
  const refuse = (reason: string): CgroupPlan => ({ ok: false, mode: f.mode, reason });
  const has = (c: string) => f.controllers.includes(c);
  const parent = `/${CGROUP_DIR}/${id}`;
  const memBytes = String(limits.memoryMiB * 1024 * 1024);

  if (f.mode === 'none') return refuse('no cgroup filesystem is mounted at /sys/fs/cgroup; mount it (cgroup2, or the v1 hierarchies) before starting the server');

  if (f.engineDriver === 'systemd') return planSystemd(f, limits, f.mode === 'v2' ? '2' : '1');

  if (f.mode === 'v1' || f.mode === 'hybrid') {
    const bad = engineMismatch(f, '1');
    if (bad) return refuse(bad);
    const missing = [MEMORY, PIDS].filter((c) => !has(c));
    if (missing.length) {
      return refuse(`no cgroup v1 ${missing.join(' and ')} hierarchy is mounted under /sys/fs/cgroup; ` +
        (missing.includes(MEMORY) ? 'boot the kernel with cgroup_enable=memory (and ' : '(') + 'mount the missing hierarchies), or boot with cgroup v2');
    }
    const rel = (c: string, file?: string) => [c, CGROUP_DIR, id, ...(file ? [file] : [])].join('/');
    const steps: CgroupStep[] = [
      { kind: 'mkdir', path: rel(MEMORY) },
      { kind: 'write', path: rel(MEMORY, 'memory.limit_in_bytes'), value: memBytes },
      // No swap: the memory cap is the cap. Absent when the kernel does no swap accounting.
      { kind: 'write', path: rel(MEMORY, 'memory.memsw.limit_in_bytes'), value: memBytes, optional: true },
      { kind: 'mkdir', path: rel(PIDS) },
      { kind: 'write', path: rel(PIDS, 'pids.max'), value: String(limits.pids) },
    ];
    if (has(CPU)) {
      steps.push({ kind: 'mkdir', path: rel(CPU) }, { kind: 'write', path: [CPU, CGROUP_DIR, 'cpu.shares'].join('/'), value: String(PARENT_CPU_SHARES) });
      steps.push({ kind: 'write', path: rel(CPU, 'cpu.shares'), value: String(limits.cpuShares) });
    }
    const cpu = has(CPU) ? `cpu shares ${limits.cpuShares}` : 'cpu not limited (no cpu hierarchy)';
    return { ok: true, mode: f.mode, parent, steps, enforced: `memory ${limits.memoryMiB} MiB, pids ${limits.pids}, ${cpu}` };
  }

  // cgroup v2
  const bad = engineMismatch(f, '2');
  if (bad) return refuse(bad);
  const missing = [MEMORY, PIDS].filter((c) => !has(c));
  if (missing.length) {
    return refuse(`cgroup v2 offers no ${missing.join(' or ')} controller at /sys/fs/cgroup (cgroup.controllers: "${f.controllers.join(' ')}"); ` +
      'it is either still bound to a v1 hierarchy (boot with systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all) ' +
      'or not delegated to this cgroup (give the server a cgroup with Delegate=yes, or run it on the host)');
  }
  const ctrls = [CPU, MEMORY, PIDS].filter(has);
  const enable = ctrls.map((c) => `+${c}`).join(' ');
  const steps: CgroupStep[] = [];
  // A controller must be enabled in every ancestor's subtree_control to reach a child.
  if (!ctrls.every((c) => f.subtreeControl.includes(c))) steps.push({ kind: 'write', path: 'cgroup.subtree_control', value: enable });
  const rel = (...p: string[]) => [CGROUP_DIR, ...p].join('/');
  steps.push(
    { kind: 'mkdir', path: CGROUP_DIR },
    ...(has(CPU) ? [{ kind: 'write' as const, path: rel('cpu.weight'), value: String(PARENT_CPU_WEIGHT) }] : []),
    { kind: 'write', path: rel('cgroup.subtree_control'), value: enable },
    { kind: 'mkdir', path: rel(id) },
    { kind: 'write', path: rel(id, 'memory.max'), value: memBytes },
    { kind: 'write', path: rel(id, 'memory.swap.max'), value: '0', optional: true },
    { kind: 'write', path: rel(id, 'pids.max'), value: String(limits.pids) },
  );
  if (has(CPU)) steps.push({ kind: 'write', path: rel(id, 'cpu.weight'), value: String(cpuSharesToWeight(limits.cpuShares)) });
  // The container's own cgroup (the learner's namespace root) gets these controllers too, so the inner
  // engine can enable them for its containers.
  steps.push({ kind: 'write', path: rel(id, 'cgroup.subtree_control'), value: enable });
  const cpu = has(CPU) ? `cpu weight ${cpuSharesToWeight(limits.cpuShares)} (shares ${limits.cpuShares})` : 'cpu not limited (no cpu controller)';
  return { ok: true, mode: f.mode, parent, steps, enforced: `memory ${limits.memoryMiB} MiB, pids ${limits.pids}, ${cpu}` };
}

/** The refusal a learner's sandbox start gets, and the way out for the host. */
export function refusalMessage(reason: string): string {
  return `This host cannot enforce the sandbox limits: ${reason}. ` +
    'Until then no sandbox starts; to run sandboxes without hard memory, pids and CPU limits anyway, set SANDBOX_ALLOW_UNLIMITED=1.';
}

/** One line for the server's start-up log. */
export function describeCgroups(plan: CgroupPlan, allowUnlimited: boolean): string {
  const mode = modeName(plan.mode);
  if (plan.ok) return `${mode}: ${plan.enforced} enforced on ${plan.where ?? `/${CGROUP_DIR}/<sandbox id>`}`;
  if (allowUnlimited) return `${mode}: sandbox limits NOT enforced (SANDBOX_ALLOW_UNLIMITED=1): ${plan.reason}`;
  return `${mode}: refusing to start sandboxes: ${refusalMessage(plan.reason)}`;
}
