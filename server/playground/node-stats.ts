// Per-node figures for the playground: CPU and memory from the host engine's stats API for the
// sandbox's container, the sandbox disk (its /var/lib/docker) and listening ports from one exec in it.
import type Docker from 'dockerode';
import type { SandboxDriver, SandboxRef } from '../../sandbox/driver/types.ts';
import type { NodeStats } from '../protocol/realtime.ts';
import { listeningPorts } from '../files/paths.ts';

export interface ContainerSample {
  cpuPercent: number;
  memoryBytes: number;
  memoryLimitBytes: number;
}

/** The host engine's view of a sandbox container; null when it cannot say (gone, or on another engine). */
export interface HostStats {
  sample(ref: SandboxRef): Promise<ContainerSample | null>;
}

/** The fields of the engine's stats answer we read (GET /containers/{id}/stats). */
export interface EngineStatsJson {
  cpu_stats?: { cpu_usage?: { total_usage?: number; percpu_usage?: number[] }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
}

/** As `docker stats` computes it: the container's share of the host's CPU time, times its CPUs. */
export function containerSample(s: EngineStatsJson): ContainerSample {
  const cpu = (s.cpu_stats?.cpu_usage?.total_usage ?? 0) - (s.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const sys = (s.cpu_stats?.system_cpu_usage ?? 0) - (s.precpu_stats?.system_cpu_usage ?? 0);
  const cpus = s.cpu_stats?.online_cpus || s.cpu_stats?.cpu_usage?.percpu_usage?.length || 1;
  const cpuPercent = cpu > 0 && sys > 0 ? (cpu / sys) * cpus * 100 : 0;
  const m = s.memory_stats ?? {};
  // Page cache the kernel can drop is not the node's own use (docker stats leaves it out too).
  const inactive = m.stats?.total_inactive_file ?? m.stats?.inactive_file ?? 0;
  return { cpuPercent: Math.round(cpuPercent * 10) / 10, memoryBytes: Math.max(0, (m.usage ?? 0) - inactive), memoryLimitBytes: m.limit ?? 0 };
}

/** `df -P -B1 <dir>`'s last line: total and used bytes. */
export function parseDf(out: string): { total: number; used: number } | undefined {
  const line = out.trim().split('\n').find((l) => /^\S+\s+\d+\s+\d+\s+\d+\s+\d+%/.test(l));
  if (!line) return undefined;
  const f = line.split(/\s+/);
  return { total: Number(f[1]), used: Number(f[2]) };
}

export function createHostStats(docker: Docker, opts: { remote?(ref: SandboxRef): boolean; log?(msg: string, err?: unknown): void } = {}): HostStats {
  let told = false;
  return {
    async sample(ref) {
      if (opts.remote?.(ref)) return null;
      try {
        const s = (await docker.getContainer(ref.containerId).stats({ stream: false })) as unknown as EngineStatsJson;
        return containerSample(s);
      } catch (err) {
        // Usually a node removed meanwhile (the next round no longer asks for it); said once in the log.
        if (!told) opts.log?.(`playground stats: the engine gave no stats for ${ref.name}`, err);
        told = true;
        return null;
      }
    },
  };
}

const MARK = '--lablab-tcp--';

export async function sampleNode(deps: { host: HostStats; driver: Pick<SandboxDriver, 'exec'> }, ref: SandboxRef): Promise<NodeStats> {
  const [c, inside] = await Promise.all([
    deps.host.sample(ref),
    deps.driver
      .exec(ref, ['sh', '-c', `df -P -B1 /var/lib/docker; echo ${MARK}; cat /proc/net/tcp /proc/net/tcp6`], { timeoutMs: 5_000 })
      .catch(() => undefined),
  ]);
  const [dfOut = '', tcp = ''] = (inside?.stdout ?? '').split(MARK);
  const disk = parseDf(dfOut);
  return {
    node: ref.node,
    cpuPercent: c?.cpuPercent ?? 0,
    memoryBytes: c?.memoryBytes ?? 0,
    memoryLimitBytes: c?.memoryLimitBytes ?? 0,
    ...(disk ? { diskUsedBytes: disk.used, diskTotalBytes: disk.total } : {}),
    ports: listeningPorts(tcp),
  };
}
