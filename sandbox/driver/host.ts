// Host-side plumbing the driver needs besides the engine API: the loop-disk script and cgroup parents.
import Docker from 'dockerode';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from './command-runner.ts';
import { SandboxError } from './errors.ts';
import { describeCgroups, planCgroups, refusalMessage, type CgroupFacts } from './cgroup-plan.ts';
import {
  applyCgroupSteps,
  createCgroupFs,
  listSandboxCgroups,
  readCgroupFacts,
  removeSandboxCgroups,
  sandboxMemoryBytes,
  setSandboxCpuShares,
  type CgroupFs,
} from './cgroup-fs.ts';
import type { SandboxLimits } from './types.ts';

const DISK_SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../host/disk.sh');

/** Runs `sandbox/host/disk.sh <args>` (through the command runner); rejects with its stderr. */
export async function disk(args: string[], timeoutMs = 120_000): Promise<void> {
  const r = await runCommand('bash', [DISK_SCRIPT, ...args], { timeoutMs });
  if (r.code === 0) return;
  const why = r.stderr.trim() || r.error || (r.timedOut ? `timed out after ${timeoutMs / 1000} s` : `exit ${r.code ?? r.signal}`);
  throw new SandboxError('sandbox_failed', `disk ${args[0]} failed: ${why}`);
}

/** The engine's own view: which cgroup driver and version it uses for containers. */
export async function engineCgroupInfo(docker: Docker): Promise<{ driver?: string; version?: string }> {
  const info = (await docker.info()) as { CgroupDriver?: string; CgroupVersion?: string };
  return { driver: info.CgroupDriver, version: info.CgroupVersion };
}

/** What the driver needs from the host's cgroups; facts are probed once, lazily. */
export interface CgroupManager {
  /** What the host looks like and what a sandbox with these limits gets (for the start-up log). */
  describe(limits: SandboxLimits): Promise<string>;
  /** Throws the refusal prepare() would throw, without creating anything (so a create fails before any work). */
  check(limits: SandboxLimits): Promise<void>;
  /**
   * Makes the sandbox's parent cgroup with its hard limits and returns it for HostConfig.CgroupParent.
   * Throws a clear refusal when the limits cannot be enforced, unless unlimited sandboxes are allowed
   * (then undefined: the container's own limits apply alone, which a learner could raise).
   */
  prepare(id: string, limits: SandboxLimits): Promise<string | undefined>;
  memoryBytes(id: string): number | undefined;
  /** The sandbox parent's CPU weight (false where the container's own weight counts: systemd driver). */
  setCpuShares(id: string, shares: number): boolean;
  remove(id: string): void;
  list(): string[];
}

export interface CgroupManagerOptions {
  /** The host engine's `docker info` CgroupDriver/CgroupVersion (default: asked over /var/run/docker.sock). */
  engineInfo?: () => Promise<{ driver?: string; version?: string }>;
  allowUnlimited?: boolean;
  cgroupFs?: CgroupFs;
  log?: (msg: string, err?: unknown) => void;
}

export function createCgroupManager(opts: CgroupManagerOptions): CgroupManager {
  const cg = opts.cgroupFs ?? createCgroupFs();
  const log = opts.log ?? (() => {});
  const engineInfo = opts.engineInfo ?? (() => engineCgroupInfo(new Docker({ socketPath: '/var/run/docker.sock' })));
  const local = readCgroupFacts(cg);
  let facts: Promise<CgroupFacts> | undefined;
  const probe = (): Promise<CgroupFacts> => {
    facts ??= engineInfo().then(
      (e) => ({ ...local, engineDriver: e.driver || undefined, engineVersion: e.version || undefined }),
      (err) => {
        log('could not ask the host engine for its cgroup driver; planning from /sys/fs/cgroup alone', err);
        return local;
      },
    );
    return facts;
  };
  let warned = false;
  return {
    async describe(limits) {
      return describeCgroups(planCgroups(await probe(), limits, '<id>'), !!opts.allowUnlimited);
    },
    async check(limits) {
      const plan = planCgroups(await probe(), limits, '<id>');
      if (!plan.ok && !opts.allowUnlimited) throw new SandboxError('sandbox_failed', refusalMessage(plan.reason));
    },
    async prepare(id, limits) {
      const plan = planCgroups(await probe(), limits, id);
      if (!plan.ok) {
        if (!opts.allowUnlimited) throw new SandboxError('sandbox_failed', refusalMessage(plan.reason));
        if (!warned) log(`sandbox limits are NOT enforced (SANDBOX_ALLOW_UNLIMITED=1): ${plan.reason}`);
        warned = true;
        return undefined;
      }
      try {
        applyCgroupSteps(cg, plan.steps);
      } catch (err) {
        removeSandboxCgroups(cg, local.mode, id);
        throw err;
      }
      return plan.parent;
    },
    memoryBytes: (id) => sandboxMemoryBytes(cg, local.mode, id),
    setCpuShares: (id, shares) => setSandboxCpuShares(cg, local.mode, id, shares),
    remove: (id) => removeSandboxCgroups(cg, local.mode, id),
    list: () => listSandboxCgroups(cg, local.mode),
  };
}
