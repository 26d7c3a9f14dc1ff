// The cgroup filesystem behind a narrow interface (root injectable, so tests use a temp dir laid out
// like /sys/fs/cgroup), plus what reads facts from it and carries out a plan from cgroup-plan.ts.
import fs from 'node:fs';
import path from 'node:path';
import { SandboxError } from './errors.ts';
import { CGROUP_DIR, cpuSharesToWeight, type CgroupFacts, type CgroupMode, type CgroupStep } from './cgroup-plan.ts';

export interface CgroupFs {
  readonly root: string;
  exists(rel: string): boolean;
  /** undefined when absent. */
  read(rel: string): string | undefined;
  write(rel: string, value: string): void;
  mkdir(rel: string): void;
  /** Sub-directories of rel ([] when absent). */
  dirs(rel: string): string[];
  /** Removes rel and every cgroup below it, deepest first (cgroupfs only removes empty dirs). */
  rmdirTree(rel: string): void;
}

export function createCgroupFs(root = '/sys/fs/cgroup'): CgroupFs {
  const abs = (rel: string) => path.join(root, rel);
  const dirs = (rel: string): string[] => {
    try {
      return fs.readdirSync(abs(rel), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    } catch {
      return [];
    }
  };
  const rmdirTree = (rel: string): void => {
    for (const d of dirs(rel)) rmdirTree(path.join(rel, d));
    try {
      fs.rmdirSync(abs(rel));
    } catch {
      // Absent, or still holds a process the engine has not reaped yet: the reaper tries again later.
    }
  };
  return {
    root,
    exists: (rel) => fs.existsSync(abs(rel)),
    read: (rel) => {
      try {
        return fs.readFileSync(abs(rel), 'utf8');
      } catch {
        return undefined;
      }
    },
    write: (rel, value) => fs.writeFileSync(abs(rel), value),
    mkdir: (rel) => void fs.mkdirSync(abs(rel), { recursive: true }),
    dirs,
    rmdirTree,
  };
}

const words = (s: string | undefined) => (s ?? '').split(/\s+/).filter(Boolean);

/** The V1 hierarchies are not controllers of their own. */
const NOT_CONTROLLERS = new Set(['unified', 'systemd', 'elogind']);

/** Reads the cgroup mode and controllers (the engine's driver/version are added by the caller). */
export function readCgroupFacts(cg: CgroupFs): CgroupFacts {
  if (cg.exists('cgroup.controllers')) {
    return { mode: 'v2', controllers: words(cg.read('cgroup.controllers')), subtreeControl: words(cg.read('cgroup.subtree_control')) };
  }
  const controllers = new Set<string>();
  for (const d of cg.dirs('.')) {
    // co-mounted hierarchies ("cpu,cpuacct") count for each of their controllers
    if (!cg.exists(path.join(d, 'cgroup.procs'))) continue;
    for (const c of d.split(',')) if (!NOT_CONTROLLERS.has(c) && !c.startsWith('name=')) controllers.add(c);
  }
  // Symlinks (cpu -> cpu,cpuacct) are not directories to readdir; the co-mount above covers them.
  const mode: CgroupMode = controllers.size === 0 ? 'none' : cg.exists('unified/cgroup.controllers') ? 'hybrid' : 'v1';
  return { mode, controllers: [...controllers].sort(), subtreeControl: [] };
}

/** Carries out the steps in order; on a failed write it says which file and why. */
export function applyCgroupSteps(cg: CgroupFs, steps: CgroupStep[]): void {
  for (const s of steps) {
    try {
      if (s.kind === 'mkdir') cg.mkdir(s.path);
      else if (!s.optional || cg.exists(s.path)) cg.write(s.path, s.value);
    } catch (err) {
      const what = s.kind === 'mkdir' ? `create ${s.path}` : `write "${s.value}" to ${s.path}`;
      throw new SandboxError('sandbox_failed', `could not ${what} under ${cg.root}: ${(err as Error).message}`, { cause: err });
    }
  }
}

/** Where a sandbox's parent cgroups live: one per hierarchy on v1, one in the unified tree on v2. */
function parentDirs(cg: CgroupFs, mode: CgroupMode, id: string): string[] {
  if (mode === 'v2') return [path.join(CGROUP_DIR, id)];
  // Docker creates the parent in every hierarchy, not only the ones we wrote limits to.
  return cg.dirs('.').map((h) => path.join(h, CGROUP_DIR, id));
}

export function removeSandboxCgroups(cg: CgroupFs, mode: CgroupMode, id: string): void {
  for (const d of parentDirs(cg, mode, id)) if (cg.exists(d)) cg.rmdirTree(d);
}

/**
 * The CPU weight of a sandbox's host parent (cgroupfs driver: v1 cpu.shares, v2 cpu.weight), where
 * it competes with the other sandboxes. False when there is no such parent (systemd driver, no cpu
 * controller): the container's own weight is then the one that counts.
 */
export function setSandboxCpuShares(cg: CgroupFs, mode: CgroupMode, id: string, shares: number): boolean {
  const file = mode === 'v2' ? path.join(CGROUP_DIR, id, 'cpu.weight') : path.join('cpu', CGROUP_DIR, id, 'cpu.shares');
  if (!cg.exists(file)) return false;
  cg.write(file, String(mode === 'v2' ? cpuSharesToWeight(shares) : shares));
  return true;
}

/** Memory in use by the sandbox, inner containers included. */
export function sandboxMemoryBytes(cg: CgroupFs, mode: CgroupMode, id: string): number | undefined {
  const raw = mode === 'v2' ? cg.read(path.join(CGROUP_DIR, id, 'memory.current')) : cg.read(path.join('memory', CGROUP_DIR, id, 'memory.usage_in_bytes'));
  const n = Number(raw);
  return raw === undefined || !Number.isFinite(n) ? undefined : n;
}

/** Ids of sandbox parent cgroups present (for reaping leftovers). */
export function listSandboxCgroups(cg: CgroupFs, mode: CgroupMode): string[] {
  return cg.dirs(mode === 'v2' ? CGROUP_DIR : path.join('memory', CGROUP_DIR));
}
