import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngineFleet, ENGINE_LOST_MESSAGE, type FleetMember, type FullDriver } from './engine-fleet.ts';
import { SandboxError } from './errors.ts';
import type { SandboxRef, SandboxSpec } from './types.ts';

const GiB = 1024 ** 3;

/** A driver that keeps sandboxes in memory and records which engine did what. */
function fakeEngine(id: string, figures = { memTotalBytes: 24 * GiB, cpus: 2, running: 0 }) {
  const refs: SandboxRef[] = [];
  const calls: string[] = [];
  let up = true;
  let n = 0;
  const driver = {
    async create(spec: SandboxSpec) {
      const ref = { id: `${id}-${++n}`, containerId: 'c', name: 'n', sessionId: spec.sessionId, node: spec.node, socketDir: '', engineSocket: '', terminalSocket: '', workdir: '/root', expiresAt: spec.expiresAt };
      refs.push(ref);
      figures.running++;
      return ref;
    },
    async exec(ref: SandboxRef) {
      calls.push(`exec ${ref.id}`);
      return { exitCode: 0, stdout: id, stderr: '', timedOut: false };
    },
    async list() { return refs.slice(); },
    async reap() { return []; },
    async createSessionNetwork(sid: string) { calls.push(`net ${sid}`); return `net-${sid}`; },
    async removeSessionNetwork(sid: string) { calls.push(`rmnet ${sid}`); },
    async destroy(ref: SandboxRef) { calls.push(`destroy ${ref.id}`); },
    async prepareImages(images: string[]) { calls.push(`prepare ${images.join(',')}`); },
    async dispose() {},
  } as unknown as FullDriver;
  const member: FleetMember = { id, driver, probe: async () => { if (!up) throw new Error('connect ECONNREFUSED'); return { ...figures }; } };
  return { member, calls, figures, refs, down: () => { up = false; } };
}

const spec = (sessionId: string, node = 1): SandboxSpec => ({ sessionId, node, images: [], limits: { memoryMiB: 2048, pids: 256, cpuShares: 512, diskGiB: 1 }, expiresAt: 0 });

test('sessions spread over engines by free capacity, and every node of a session stays on its engine', async () => {
  const a = fakeEngine('local');
  const b = fakeEngine('e2');
  const fleet = createEngineFleet({ members: [a.member, b.member], memoryMiB: 2048 });
  const s1 = await fleet.create(spec('s1'));
  await fleet.refresh();
  const s2 = await fleet.create(spec('s2'));
  assert.equal(s1.engine, 'local');
  assert.equal(s2.engine, 'e2');
  // s1's second node follows s1, though e2 is now as free as local.
  await fleet.refresh();
  const s1n2 = await fleet.create(spec('s1', 2));
  assert.equal(s1n2.engine, 'local');
  assert.equal((await fleet.exec(s2, ['true'])).stdout, 'e2');
  assert.deepEqual(b.calls, [`exec ${s2.id}`]);
  // A ref without its engine (stored before there were several) is found by its session.
  assert.equal((await fleet.exec({ ...s2, engine: undefined }, ['true'])).stdout, 'e2');
});

test('the session network is made on the engine the session is placed on', async () => {
  const a = fakeEngine('local', { memTotalBytes: 24 * GiB, cpus: 2, running: 5 });
  const b = fakeEngine('e2');
  const fleet = createEngineFleet({ members: [a.member, b.member], memoryMiB: 2048 });
  await fleet.createSessionNetwork('s1');
  const ref = await fleet.create(spec('s1'));
  assert.equal(ref.engine, 'e2');
  assert.deepEqual(b.calls, ['net s1']);
  await fleet.removeSessionNetwork('s1');
  assert.deepEqual(b.calls, ['net s1', 'rmnet s1']);
});

test('a drained engine gets no new sessions, and keeps the ones it has', async () => {
  const a = fakeEngine('local');
  const b = fakeEngine('e2', { memTotalBytes: 24 * GiB, cpus: 2, running: 3 });
  const fleet = createEngineFleet({ members: [a.member, b.member], memoryMiB: 2048 });
  const old = await fleet.create(spec('old'));
  assert.equal(old.engine, 'local');
  fleet.drain('local');
  for (const s of ['n1', 'n2', 'n3']) {
    await fleet.refresh();
    assert.equal((await fleet.create(spec(s))).engine, 'e2');
  }
  assert.equal((await fleet.create(spec('old', 2))).engine, 'local');
  fleet.drain('e2');
  await assert.rejects(fleet.create(spec('n4')), (e: unknown) => e instanceof SandboxError && e.code === 'capacity' && /every sandbox engine is drained/.test(e.message));
});

test('a lost engine ends its sessions with a clear message; new sessions go elsewhere', async () => {
  const a = fakeEngine('local');
  const b = fakeEngine('e2');
  const lost: [string, string[]][] = [];
  const fleet = createEngineFleet({ members: [a.member, b.member], memoryMiB: 2048, lostAfterMisses: 2, onEngineLost: (e, s) => lost.push([e, s]) });
  const ref = await fleet.create(spec('s1'));
  assert.equal(ref.engine, 'local');
  a.down();
  await fleet.refresh();
  assert.deepEqual(lost, [], 'one missed probe is not yet a lost engine');
  await fleet.refresh();
  assert.deepEqual(lost, [['local', ['s1']]]);
  await assert.rejects(fleet.exec(ref, ['true']), (e: unknown) => e instanceof SandboxError && e.code === 'engine_lost' && e.message === ENGINE_LOST_MESSAGE);
  await fleet.destroy(ref); // nothing left to remove: no throw
  assert.equal((await fleet.create(spec('s2'))).engine, 'e2');
  assert.equal(fleet.engines().find((e) => e.id === 'local')?.lost, true);
});

test('an engine that never answers (frozen, or its link cut) is lost too: a probe times out', async () => {
  const a = fakeEngine('local');
  const b = fakeEngine('e2');
  a.member.probe = () => new Promise(() => {}); // hangs forever, as a stopped dockerd does
  const lost: [string, string[]][] = [];
  const fleet = createEngineFleet({ members: [a.member, b.member], memoryMiB: 2048, lostAfterMisses: 2, probeTimeoutMs: 50, onEngineLost: (e, s) => lost.push([e, s]) });
  await fleet.refresh();
  await fleet.refresh();
  assert.equal(fleet.engines().find((e) => e.id === 'local')?.lost, true);
  assert.match(fleet.engines().find((e) => e.id === 'local')?.error ?? '', /no answer within 0.05 s/);
  assert.equal(lost.length, 1);
});

test('images are prepared on every engine that answers', async () => {
  const a = fakeEngine('local');
  const b = fakeEngine('e2');
  const fleet = createEngineFleet({ members: [a.member, b.member], memoryMiB: 2048 });
  await fleet.prepareImages!(['busybox']);
  assert.deepEqual([a.calls, b.calls], [['prepare busybox'], ['prepare busybox']]);
});

test('a session whose network was made ahead on an engine drained since moves to an open engine', async () => {
  const a = fakeEngine('local');
  const b = fakeEngine('e2', { memTotalBytes: 24 * GiB, cpus: 2, running: 3 });
  const fleet = createEngineFleet({ members: [a.member, b.member], memoryMiB: 2048 });
  const stock = await fleet.createSessionNetwork('pool-1');
  assert.equal(fleet.engineOf('pool-1'), 'local');
  fleet.drain('local');
  const [n1, n2] = await Promise.all([fleet.create({ ...spec('pool-1', 1), network: stock }), fleet.create({ ...spec('pool-1', 2), network: stock })]);
  assert.deepEqual([n1!.engine, n2!.engine], ['e2', 'e2']);
  assert.deepEqual(b.calls, ['net pool-1'], 'one new network on the open engine, for both nodes');
  assert.ok(a.calls.includes('rmnet pool-1'), 'the stock network on the drained engine is removed');
  // Once it has a sandbox, a session stays put even if its engine is drained.
  fleet.drain('local', false);
  await fleet.createSessionNetwork('s2');
  await fleet.create({ ...spec('s2'), network: 'net-s2' });
  fleet.drain('local');
  assert.equal((await fleet.create({ ...spec('s2', 2), network: 'net-s2' })).engine, 'local');
});
