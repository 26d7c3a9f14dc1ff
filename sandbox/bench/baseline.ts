// The machine's own speed, measured in the same run as a benchmark, so that its figures can be
// compared between machines: a benchmark prints each figure also as a multiple of one of these.
//   docker_run_ms  a plain `docker run --rm busybox true` on the host engine (what any create costs)
//   loop_disk_ms   one sandbox disk made and mounted, then released, by the driver's own disk.sh
//   cpu_loop_ms    a fixed CPU-bound loop in this process (how fast one core is, and how free)
// Each is the median of a few tries, since the machine may be busy.
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { fixed, percentile } from './stats.ts';

const run = promisify(execFile);
const DISK_SH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'host', 'disk.sh');

export interface Baseline {
  docker_run_ms: number;
  loop_disk_ms: number;
  cpu_loop_ms: number;
  /** 1-minute load average when the baseline was taken. */
  load1: number;
}

export type BaselineUnit = keyof Omit<Baseline, 'load1'>;

async function timed(fn: () => Promise<unknown> | unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

const CPU_BLOCK = Buffer.alloc(64 << 20, 7);

/**
 * A fixed amount of CPU work: SHA-256 over 256 MiB, about 0.35 s on one free core of a 2020s server.
 * Native code, so it does not depend on when the JIT warms up.
 */
export function cpuLoop(rounds = 4): string {
  let h = '';
  for (let i = 0; i < rounds; i++) h = crypto.createHash('sha256').update(CPU_BLOCK).update(h).digest('hex');
  return h;
}

async function loopDisk(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-baseline-'));
  try {
    await run('bash', [DISK_SH, 'prepare', path.join(dir, 'sb'), '1']);
  } finally {
    await run('bash', [DISK_SH, 'release', path.join(dir, 'sb')]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Measures the baseline: `tries` of each, the median kept. */
export async function measureBaseline(tries = 3): Promise<Baseline> {
  const load1 = os.loadavg()[0]!;
  const docker: number[] = [];
  const disk: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < tries; i++) {
    docker.push(await timed(() => run('docker', ['run', '--rm', '--label', 'io.lablab.baseline=1', 'busybox', 'true'])));
    disk.push(await timed(loopDisk));
    cpu.push(await timed(() => cpuLoop()));
  }
  return { docker_run_ms: fixed(percentile(docker, 50))!, loop_disk_ms: fixed(percentile(disk, 50))!, cpu_loop_ms: fixed(percentile(cpu, 50))!, load1: fixed(load1, 2)! };
}

/**
 * Each figure as a multiple of a baseline figure: `{ ready_p50_ms: 1800 }` over a 600 ms docker run
 * is `{ ready_p50_ms: 3 }`. Figures that are not numbers are left out. A rate (MB/s, higher is
 * better) is multiplied instead, so every ratio reads "how many baselines".
 */
export function relativeTo(base: Baseline, unit: BaselineUnit, figures: Record<string, unknown>, rates: readonly string[] = []): Record<string, number | null> {
  const b = base[unit];
  const out: Record<string, number | null> = {};
  for (const [k, v] of Object.entries(figures)) {
    if (typeof v !== 'number') continue;
    out[k] = rates.includes(k) ? fixed((v * b) / 1000, 2) : fixed(v / b, 2);
  }
  return out;
}

export function formatBaseline(b: Baseline): string {
  return `machine baseline (load ${b.load1}): docker run --rm busybox true ${b.docker_run_ms} ms, loop disk create+mount+release ${b.loop_disk_ms} ms, CPU loop ${b.cpu_loop_ms} ms`;
}
