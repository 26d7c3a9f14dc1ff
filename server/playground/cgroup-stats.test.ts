// Against a temp dir laid out like /sys/fs/cgroup (v1 and v2), on an injected clock.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SandboxRef } from '../../sandbox/driver/types.ts';
import { createCgroupFs } from '../../sandbox/driver/cgroup-fs.ts';
import { createCgroupStats, firstStats } from './cgroup-stats.ts';

const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const ref = { id: 'abc123', node: 2 } as SandboxRef;

function tree(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-cgstats-'));
  dirs.push(root);
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  }
  return root;
}

function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

test('v1: CPU is the cpuacct time between readings over the wall time; memory leaves out inactive page cache', async () => {
  const root = tree({
    'cpuacct/cgroup.procs': '', 'memory/cgroup.procs': '',
    'cpuacct/lablab/abc123/cpuacct.usage': '1000000000',
    'memory/lablab/abc123/memory.usage_in_bytes': String(300 << 20),
    'memory/lablab/abc123/memory.limit_in_bytes': String(2048 << 20),
    'memory/lablab/abc123/memory.stat': `cache 1\ntotal_inactive_file ${100 << 20}\n`,
  });
  const c = clock();
  const usage = path.join(root, 'cpuacct/lablab/abc123/cpuacct.usage');
  // The first sample reads twice: 0.5 s apart, 0.4 s of CPU = 80 %.
  const stats = createCgroupStats({ cg: createCgroupFs(root), now: c.now, sleep: async (ms) => { c.advance(ms); fs.writeFileSync(usage, '1400000000'); } });
  assert.deepEqual(await stats.sample(ref), { cpuPercent: 80, memoryBytes: 200 << 20, memoryLimitBytes: 2048 << 20 });
  // Then against the last reading: 2 s later, 3 s of CPU = 150 % (two CPUs busy at three quarters).
  c.advance(2000);
  fs.writeFileSync(usage, '4400000000');
  assert.equal((await stats.sample(ref))?.cpuPercent, 150);
  c.advance(2000);
  assert.equal((await stats.sample(ref))?.cpuPercent, 0);
});

test('v2: cpu.stat usage_usec, memory.current less inactive_file, memory.max', async () => {
  const root = tree({
    'cgroup.controllers': 'cpu memory pids',
    'lablab/abc123/cpu.stat': 'usage_usec 5000000\nuser_usec 1\n',
    'lablab/abc123/memory.current': String(64 << 20),
    'lablab/abc123/memory.max': 'max',
    'lablab/abc123/memory.stat': `anon 1\ninactive_file ${16 << 20}\n`,
  });
  const c = clock();
  const stat = path.join(root, 'lablab/abc123/cpu.stat');
  const stats = createCgroupStats({ cg: createCgroupFs(root), now: c.now, sleep: async (ms) => { c.advance(ms); fs.writeFileSync(stat, 'usage_usec 5250000\n'); } });
  assert.deepEqual(await stats.sample(ref), { cpuPercent: 50, memoryBytes: 48 << 20, memoryLimitBytes: 0 });
});

test('a sandbox whose cgroup is not on this host is left to the next source', async () => {
  const root = tree({ 'cgroup.controllers': 'cpu memory' });
  const stats = createCgroupStats({ cg: createCgroupFs(root), now: Date.now, sleep: async () => {} });
  assert.equal(await stats.sample(ref), null);
  const engine = { sample: async () => ({ cpuPercent: 7, memoryBytes: 1, memoryLimitBytes: 2 }) };
  assert.deepEqual(await firstStats(stats, engine).sample(ref), { cpuPercent: 7, memoryBytes: 1, memoryLimitBytes: 2 });
});
