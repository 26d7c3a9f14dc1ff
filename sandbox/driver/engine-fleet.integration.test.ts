// Two real engines on this host: the host engine and a second dockerd started for this test.
// Sessions land on both; a drained engine gets none; the sandbox image is shipped to engine 2.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { requireEngine } from './engine-gate.test-support.ts';
import { startSecondEngine, type SecondEngine } from './second-engine.test-support.ts';
import { createEngineFleetFromSpecs } from './engine-members.ts';
import { parseEngines } from './engines-config.ts';
import type { EngineFleet } from './engine-fleet.ts';
import type { SandboxSpec } from './types.ts';
import { cleanupOwner } from '../../e2e/cleanup.ts';

const skip = await requireEngine();
const tag = randomBytes(3).toString('hex');
const owner = `test-fleet-${tag}`;
const dataDir = path.join(process.cwd(), '.data');
let engine2: SecondEngine | undefined;
let fleet: EngineFleet | undefined;
const log = (m: string, e?: unknown) => process.env.DEBUG && console.log(m, e ?? '');

before(async () => {
  if (skip) return;
  engine2 = await startSecondEngine({ dir: path.join(dataDir, 'test-engines', `f${tag}`), name: `f${tag}` });
  const specs = parseEngines({ ENGINES: `unix:///var/run/docker.sock,unix://${engine2.socketPath}` });
  fleet = createEngineFleetFromSpecs(specs, { dataDir, ownerId: owner, sandboxImage: process.env.SANDBOX_IMAGE || undefined, log }, { memoryMiB: 512, log });
});

after(async () => {
  if (fleet) {
    for (const r of await fleet.list()) await fleet.destroy(r).catch(() => {});
    await fleet.reap({ now: Number.MAX_SAFE_INTEGER, isLive: () => false }).catch(() => {});
    for (const s of ['a', 'b', 'c']) await fleet.removeSessionNetwork(`${owner}-${s}`).catch(() => {});
    await fleet.dispose();
  }
  await cleanupOwner(dataDir, owner).catch(() => {});
  await engine2?.stop();
});

const spec = (sessionId: string, progress: string[]): SandboxSpec => ({
  sessionId, node: 1, images: [], limits: { memoryMiB: 512, pids: 256, cpuShares: 512, diskGiB: 1 }, expiresAt: Date.now() + 3_600_000, onProgress: (m) => progress.push(m),
});

test('sessions land on both engines; the image is shipped to engine 2 with progress; a drained engine gets none', { skip, timeout: 600_000 }, async () => {
  const f = fleet!;
  const progress: string[] = [];
  // Engine 2 is empty, so it has the most room: the first session goes there.
  f.drain('local');
  const netA = await f.createSessionNetwork(`${owner}-a`);
  const a = await f.create({ ...spec(`${owner}-a`, progress), network: netA });
  assert.equal(a.engine, 'e2');
  assert.ok(progress.some((m) => /Copied lablab\/sandbox.* to sandbox machine e2/.test(m)), progress.join('\n'));
  await f.waitReady(a, { timeoutMs: 180_000 });
  const r = await f.exec(a, ['sh', '-c', 'hostname; docker info --format "{{.ServerVersion}}" >/dev/null && echo inner-ok']);
  assert.match(r.stdout, /node1[\s\S]*inner-ok/);
  // The drained host engine holds none of it.
  const onE2 = (await engine2!.docker.listContainers({ filters: { label: [`io.lablab.session=${owner}-a`] } })).length;
  assert.equal(onE2, 1);

  // Undrained, with engine 2 now holding one: the next session goes to the host engine.
  f.drain('local', false);
  await f.refresh();
  const netB = await f.createSessionNetwork(`${owner}-b`);
  const b = await f.create({ ...spec(`${owner}-b`, []), network: netB });
  assert.equal(b.engine, 'local');
  await f.waitReady(b, { timeoutMs: 180_000 });
  assert.match((await f.exec(b, ['hostname'])).stdout, /node1/);

  // Drain engine 2: a new session goes to the host engine even though engine 2 has room.
  f.drain('e2');
  await f.refresh();
  assert.equal(f.engines().find((e) => e.id === 'e2')?.draining, true);
  await f.createSessionNetwork(`${owner}-c`);
  assert.equal(f.engineOf(`${owner}-c`), 'local');
  assert.deepEqual((await f.list()).map((x) => x.engine).sort(), ['e2', 'local']);
});
