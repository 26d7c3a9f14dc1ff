// After a driver test: every sandbox, network, mount and loop device an owner made under a scratch
// data dir is removed, and the dir with them, even when the test failed half-way.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import type Docker from 'dockerode';
import { createDockerSandboxDriver } from './docker-driver.ts';
import { LABELS } from './types.ts';

export async function removeTestSandboxes(host: Docker, dataDir: string, owner: string, log: (m: string) => void): Promise<void> {
  const d = createDockerSandboxDriver({ dataDir, ownerId: owner, log });
  for (const r of await d.list()) await d.destroy(r).catch((e) => console.error('cleanup', e));
  await d.reap({ now: Number.MAX_SAFE_INTEGER, isLive: () => false }).catch((e) => console.error('cleanup', e));
  for (const n of await host.listNetworks({ filters: { label: [`${LABELS.owner}=${owner}`] } })) await host.getNetwork(n.Id).remove().catch(() => {});
  await d.dispose();
  const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((m) => m.startsWith(dataDir));
  for (const m of mounts.reverse()) spawnSync('umount', ['-l', m]);
  for (const l of execFileSync('losetup', ['-a', '-l', '-n', '-O', 'NAME,BACK-FILE'], { encoding: 'utf8' }).split('\n').filter((x) => x.includes(dataDir))) {
    spawnSync('losetup', ['-d', l.split(/\s+/)[0]!]);
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
}
