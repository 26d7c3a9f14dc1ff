// Per-node CPU and memory read from the sandbox's own parent cgroup (/lablab/<sandbox id>, made by
// the driver), which holds every process of the sandbox, the learner's world included. The host
// engine's stats API answers zeros for these containers on some hosts (seen on a cgroup v1 hybrid
// host with Docker 20.10), so this is asked first and the engine only when the cgroup is not here
// (a sandbox on another engine).
import path from 'node:path';
import type { SandboxRef } from '../../sandbox/driver/types.ts';
import { CGROUP_DIR } from '../../sandbox/driver/cgroup-plan.ts';
import { readCgroupFacts, type CgroupFs } from '../../sandbox/driver/cgroup-fs.ts';
import type { ContainerSample, HostStats } from './node-stats.ts';

interface Reading {
  /** CPU time used so far, ns. */
  cpuNs: number;
  memoryBytes: number;
  memoryLimitBytes: number;
}

const num = (s: string | undefined) => {
  const n = Number((s ?? '').trim());
  return s === undefined || !Number.isFinite(n) ? undefined : n;
};
const statField = (stat: string | undefined, key: string) => num(new RegExp(`^${key} (\\d+)$`, 'm').exec(stat ?? '')?.[1]);

/** One reading of the sandbox's parent cgroup; undefined when it is not on this host. */
export function readSandboxCgroup(cg: CgroupFs, v2: boolean, id: string): Reading | undefined {
  if (v2) {
    const dir = path.join(CGROUP_DIR, id);
    const usec = statField(cg.read(path.join(dir, 'cpu.stat')), 'usage_usec');
    const current = num(cg.read(path.join(dir, 'memory.current')));
    if (usec === undefined || current === undefined) return undefined;
    const max = num(cg.read(path.join(dir, 'memory.max'))); // "max" reads as undefined
    const inactive = statField(cg.read(path.join(dir, 'memory.stat')), 'inactive_file') ?? 0;
    return { cpuNs: usec * 1000, memoryBytes: Math.max(0, current - inactive), memoryLimitBytes: max ?? 0 };
  }
  const cpuNs = num(cg.read(path.join('cpuacct', CGROUP_DIR, id, 'cpuacct.usage')));
  const usage = num(cg.read(path.join('memory', CGROUP_DIR, id, 'memory.usage_in_bytes')));
  if (cpuNs === undefined || usage === undefined) return undefined;
  const limit = num(cg.read(path.join('memory', CGROUP_DIR, id, 'memory.limit_in_bytes'))) ?? 0;
  const inactive = statField(cg.read(path.join('memory', CGROUP_DIR, id, 'memory.stat')), 'total_inactive_file') ?? 0;
  // v1 says "no limit" with a huge number.
  return { cpuNs, memoryBytes: Math.max(0, usage - inactive), memoryLimitBytes: limit >= 2 ** 60 ? 0 : limit };
}

/**
 * CPU percent is the CPU time between two readings over the wall time between them (100 = one CPU
 * busy). The first reading of a sandbox takes a second one `firstGapMs` later.
 */
export function createCgroupStats(deps: { cg: CgroupFs; now(): number; sleep(ms: number): Promise<void>; firstGapMs?: number }): HostStats {
  const v2 = readCgroupFacts(deps.cg).mode === 'v2';
  const last = new Map<string, { cpuNs: number; at: number }>();
  return {
    async sample(ref: SandboxRef): Promise<ContainerSample | null> {
      let before = last.get(ref.id);
      if (!before) {
        const first = readSandboxCgroup(deps.cg, v2, ref.id);
        if (!first) return null;
        before = { cpuNs: first.cpuNs, at: deps.now() };
        await deps.sleep(deps.firstGapMs ?? 500);
      }
      const r = readSandboxCgroup(deps.cg, v2, ref.id);
      if (!r) {
        last.delete(ref.id);
        return null;
      }
      const at = deps.now();
      last.set(ref.id, { cpuNs: r.cpuNs, at });
      const wallNs = (at - before.at) * 1e6;
      const cpuPercent = wallNs > 0 ? Math.max(0, ((r.cpuNs - before.cpuNs) / wallNs) * 100) : 0;
      return { cpuPercent: Math.round(cpuPercent * 10) / 10, memoryBytes: r.memoryBytes, memoryLimitBytes: r.memoryLimitBytes };
    },
  };
}

/** The first source that knows the sandbox. */
export function firstStats(...sources: HostStats[]): HostStats {
  return {
    async sample(ref) {
      for (const s of sources) {
        const got = await s.sample(ref);
        if (got) return got;
      }
      return null;
    },
  };
}
