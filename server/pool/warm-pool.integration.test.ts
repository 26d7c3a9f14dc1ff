// The warm pool against the real engine: it fills to its size at the lowest CPU weight, the reaper keeps what it holds, two
// pooled sandboxes taken for a two-node lab become node1 and node2 on one network (by name, at take
// time) with the lab's files and the limits' CPU weight, it refills behind a take, and it gives sandboxes back when learners
// need the room.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDockerSandboxDriver } from '../../sandbox/driver/index.ts';
import { defaultDataDir } from '../config.ts';
import { createWarmPool } from './warm-pool.ts';
import { adoptUnits } from './take.ts';
import { cleanupOwner } from '../../e2e/cleanup.ts';
import { systemTimers } from '../timers.ts';
import Docker from 'dockerode';
import { cpuSharesToWeight } from '../../sandbox/driver/cgroup-plan.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const dataDir = defaultDataDir(root);
const owner = `test-pool-${process.pid}`;
const driver = createDockerSandboxDriver({ dataDir, ownerId: owner, log: () => {} });
const docker = new Docker();
const shape = { images: ['busybox'], terms: 2 };
const cap = { inUse: 0, queued: 0, max: 10 };
const pool = createWarmPool({
  driver,
  limits: { memoryMiB: 512, pids: 512, cpuShares: 512, diskGiB: 2 },
  sessionMaxMs: 3_600_000,
  idleMaxMs: 3_600_000,
  capacity: () => cap,
  memoryHeadroomMiB: () => 100_000,
  idleSandboxMiB: 40,
  maxInFlight: 2,
  networkStock: 1,
  tickMs: 200,
  refillQuietMs: 0,
  timers: systemTimers,
  log: () => {},
});

after(async () => {
  await pool.dispose();
  await cleanupOwner(dataDir, owner);
  await driver.dispose();
});

/** The CPU weight a sandbox competes with: its container's shares, and its host parent's where the cgroupfs driver made one. */
async function weight(ref: { id: string; containerId: string }): Promise<{ container: number; parent: string | undefined }> {
  const info = await docker.getContainer(ref.containerId).inspect();
  const files = [`/sys/fs/cgroup/cpu/lablab/${ref.id}/cpu.shares`, `/sys/fs/cgroup/lablab/${ref.id}/cpu.weight`];
  const file = files.find((f) => fs.existsSync(f));
  return { container: info.HostConfig.CpuShares ?? 0, parent: file && fs.readFileSync(file, 'utf8').trim() };
}

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('fill, survive the reaper, take two sandboxes as a two-node lab, refill, give room back', { timeout: 300_000 }, async () => {
  pool.configure([shape], 2);
  await until('two sandboxes ready', () => pool.stats().idleSandboxes === 2);
  await until('a pre-made network in stock', () => pool.stats().networks === 1);

  // The reaper keeps the pool's sandboxes (their synthetic session is "live" while the pool holds it)...
  await driver.reap({ now: Date.now(), isLive: (sid) => pool.holds(sid) });
  assert.equal((await driver.list()).length, 2);

  assert.equal(pool.take({ images: ['busybox'], terms: 3 }), undefined, 'three nodes do not fit in two ready sandboxes');
  const units = pool.take(shape)!;
  assert.equal(units.length, 2);
  // Pooled, they run at the lowest CPU weight, so their start and idle loops yield to learners...
  for (const u of units) {
    const w = await weight(u.ref);
    assert.equal(w.container, 2);
    if (w.parent !== undefined) assert.ok(w.parent === '2' || w.parent === '1', `host parent weight ${w.parent}`);
  }
  // The lab's files, networks and node names are set at take time.
  const files = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-pool-files-'));
  fs.writeFileSync(path.join(files, 'Dockerfile'), 'FROM busybox\n');
  fs.mkdirSync(path.join(files, 'src'));
  fs.writeFileSync(path.join(files, 'src', 'main.go'), 'package main\n');
  const refs = await adoptUnits(driver, units, files, 512);
  fs.rmSync(files, { recursive: true, force: true });
  const [n1, n2] = refs as [typeof refs[0], typeof refs[0]];
  assert.deepEqual(refs.map((r) => r.node), [1, 2]);
  // ...and taken, at the limits' weight, in the container and in the host parent.
  for (const r of refs) {
    const w = await weight(r);
    // The container's own weight follows in the background (the engine's `runc update`).
    await until('the container at the limits\' weight', async () => (await weight(r)).container === 512);
    if (w.parent !== undefined) assert.ok(w.parent === '512' || w.parent === String(cpuSharesToWeight(512)), `host parent weight ${w.parent}`);
  }
  assert.equal((await driver.exec(n1, ['hostname'])).stdout.trim(), 'node1');
  assert.equal((await driver.exec(n2, ['hostname'])).stdout.trim(), 'node2');
  for (const [from, to] of [[n1, 'node2'], [n2, 'node1']] as const) {
    const ping = await driver.exec(from, ['ping', '-c', '1', '-W', '5', to]);
    assert.equal(ping.exitCode, 0, `${to}: ${ping.stdout}${ping.stderr}`);
  }
  assert.ok((await driver.engine(n2).imageTags()).includes('busybox:latest'));
  for (const r of refs) {
    const ls = await driver.exec(r, ['sh', '-c', 'cat /root/Dockerfile /root/src/main.go && stat -c %U /root/src/main.go']);
    assert.equal(ls.stdout, 'FROM busybox\npackage main\nroot\n');
  }

  // It refills behind the take, counting the taken unit as in use from now on.
  cap.inUse = 2;
  await until('refilled', () => pool.stats().idleSandboxes === 2);
  assert.equal(pool.take({ images: ['golang:1.19'], terms: 1 }), undefined, 'another image set has no unit');

  // Learners arrive and the host is full: the idle unit goes, the taken one stays.
  cap.inUse = 8;
  cap.queued = 2;
  await until('the idle unit given back', async () => pool.stats().idleSandboxes === 0 && (await driver.list()).length === 2);
  assert.deepEqual((await driver.list()).map((r) => r.id).sort(), refs.map((r) => r.id).sort());
  await Promise.all(refs.map((r) => driver.destroy(r)));
  for (const u of units) await driver.removeSessionNetwork(u.sid);
});
