import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freeSlots, placeSession, type EngineLoad } from './scheduler.ts';

const GiB = 1024 ** 3;
const engine = (id: string, over: Partial<EngineLoad> = {}): EngineLoad => ({ id, healthy: true, draining: false, memTotalBytes: 24 * GiB, cpus: 2, running: 0, ...over });

test('free slots: memory minus what the host keeps, capped by CPUs and by the engine cap', () => {
  assert.equal(freeSlots(engine('a'), 2048), 11); // (24-1) GiB / 2 GiB
  assert.equal(freeSlots(engine('a', { running: 4 }), 2048), 7);
  assert.equal(freeSlots(engine('a', { memTotalBytes: 200 * GiB }), 2048), 32); // 2 CPUs x 16
  assert.equal(freeSlots(engine('a', { maxSandboxes: 3 }), 512), 3);
  assert.equal(freeSlots(engine('a', { running: 50 }), 2048), 0);
});

test('a new session goes to the engine with the most free capacity', () => {
  const p = placeSession([engine('local', { running: 6 }), engine('e2', { running: 2 })], 1, 2048);
  assert.deepEqual(p, { ok: true, engine: 'e2' });
  const q = placeSession([engine('local', { running: 1 }), engine('e2', { running: 2 })], 1, 2048);
  assert.deepEqual(q, { ok: true, engine: 'local' });
});

test('ties go to the first engine listed', () => {
  assert.deepEqual(placeSession([engine('local'), engine('e2')], 1, 2048), { ok: true, engine: 'local' });
});

test('a drained engine and a lost engine get no new sessions', () => {
  assert.deepEqual(placeSession([engine('local', { draining: true }), engine('e2', { running: 9 })], 1, 2048), { ok: true, engine: 'e2' });
  assert.deepEqual(placeSession([engine('local', { healthy: false }), engine('e2', { running: 9 })], 1, 2048), { ok: true, engine: 'e2' });
});

test('all nodes of a session must fit on one engine', () => {
  // local has 2 slots left, e2 has 3: a 3-node session can only go to e2, even though local is listed first.
  const engines = [engine('local', { maxSandboxes: 2 }), engine('e2', { maxSandboxes: 3 })];
  assert.deepEqual(placeSession(engines, 3, 512), { ok: true, engine: 'e2' });
  const none = placeSession(engines, 4, 512);
  assert.equal(none.ok, false);
  assert.match(!none.ok ? none.reason : '', /no sandbox engine has room for 4 more sandboxes/);
});

test('the refusal says why: nothing answers, or everything is drained', () => {
  const down = placeSession([engine('local', { healthy: false })], 1, 2048);
  assert.match(!down.ok ? down.reason : '', /no sandbox engine answers/);
  const drained = placeSession([engine('local', { draining: true }), engine('e2', { draining: true })], 1, 2048);
  assert.match(!drained.ok ? drained.reason : '', /every sandbox engine is drained/);
});
