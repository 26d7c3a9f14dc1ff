// Host-side plumbing the driver needs besides the engine API: the loop-disk script and cgroup parents.
import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { AppError } from '../../server/errors.ts';
import type { SandboxLimits } from './types.ts';

const DISK_SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../host/disk.sh');

/** Runs `sandbox/host/disk.sh <args>`; rejects with its stderr. */
export function disk(args: string[], timeoutMs = 120_000): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('bash', [DISK_SCRIPT, ...args], { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 }, (err, _out, stderr) => {
      if (err) reject(new AppError('sandbox_failed', `disk ${args[0]} failed: ${String(stderr).trim() || err.message}`, { cause: err }));
      else resolve();
    });
  });
}

const CGROUP_ROOT = '/sys/fs/cgroup';
const CGROUP_PARENT = 'lablab';

/**
 * cgroup v1: puts the sandbox under a parent cgroup that carries the hard limits. The sandbox runs in
 * a private cgroup namespace rooted at its own cgroup, so the parent (and its limits) is out of a
 * learner's reach even though they are root with SYS_ADMIN. Returns the parent for HostConfig.CgroupParent,
 * or undefined when the host has no cgroup v1 (the container's own limits then apply alone).
 */
export function prepareCgroupParent(id: string, limits: SandboxLimits): string | undefined {
  if (!fs.existsSync(path.join(CGROUP_ROOT, 'memory', 'memory.limit_in_bytes'))) return undefined;
  const rel = path.join(CGROUP_PARENT, id);
  const set = (ctrl: string, file: string, value: number): void => {
    const dir = path.join(CGROUP_ROOT, ctrl, rel);
    fs.mkdirSync(dir, { recursive: true });
    const f = path.join(dir, file);
    if (fs.existsSync(f)) fs.writeFileSync(f, String(value));
  };
  const mem = limits.memoryMiB * 1024 * 1024;
  set('memory', 'memory.limit_in_bytes', mem);
  set('memory', 'memory.memsw.limit_in_bytes', mem); // no swap: the memory cap is the cap
  set('pids', 'pids.max', limits.pids);
  set('cpu', 'cpu.shares', limits.cpuShares);
  return '/' + rel;
}

/** Memory in use by the sandbox (inner containers included), from its parent cgroup. */
export function cgroupMemoryBytes(id: string): number | undefined {
  try {
    return Number(fs.readFileSync(path.join(CGROUP_ROOT, 'memory', CGROUP_PARENT, id, 'memory.usage_in_bytes'), 'utf8'));
  } catch {
    return undefined;
  }
}

export function removeCgroupParent(id: string): void {
  let ctrls: string[];
  try {
    ctrls = fs.readdirSync(CGROUP_ROOT);
  } catch {
    return;
  }
  for (const c of ctrls) {
    const dir = path.join(CGROUP_ROOT, c, CGROUP_PARENT, id);
    try {
      // The engine removes the container's own cgroup; only our (now empty) parent is left.
      for (const child of fs.readdirSync(dir, { withFileTypes: true })) {
        if (child.isDirectory()) fs.rmdirSync(path.join(dir, child.name));
      }
      fs.rmdirSync(dir);
    } catch {
      // Not present under this controller, or a symlinked co-mount already handled.
    }
  }
}

/** Ids of sandbox cgroup parents present on the host (for reaping leftovers). */
export function listCgroupParents(): string[] {
  try {
    return fs
      .readdirSync(path.join(CGROUP_ROOT, 'memory', CGROUP_PARENT), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch {
    return [];
  }
}
