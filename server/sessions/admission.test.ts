// Shared admission: one replica decides at a time (the admission lease), and counts every replica's sessions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFakeTimers } from '../fake-timers.test-support.ts';
import { openStore } from './store.ts';
import { ADMISSION_LEASE, STALE_TURN_MS, createSharedAdmission } from './admission.ts';
import type { SessionLike } from './lifecycle.ts';

const queued = (id: string, createdAt: number): SessionLike => ({ id, phase: 'queued', createdAt, expiresAt: createdAt + 3_600_000, sandboxes: 1, seq: 7 });

test('while another replica holds the admission lease nobody is admitted; the replica looks again shortly after', async () => {
  const store = await openStore(':memory:');
  const timers = createFakeTimers(1_000);
  const admission = createSharedAdmission({ store, holder: 'r2', maxSandboxes: 1, sandboxesOf: () => 1, idle: async () => {}, timers, log() {} });
  const local = [queued('b', 1_000)];
  const started: string[] = [];
  const start = (ids: string[]) => started.push(...ids);
  assert.equal(await store.takeLease(ADMISSION_LEASE.name, 'r1', ADMISSION_LEASE.ttlMs, timers.now()), true);
  await admission.pump(() => local, start);
  assert.deepEqual(started, [], 'r1 is deciding');
  await store.releaseLease(ADMISSION_LEASE.name, 'r1');
  timers.advance(ADMISSION_LEASE.retryMs);
  for (let i = 0; i < 50 && started.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(started, ['b'], 'admitted on the retry, without waiting for the queue tick');
  admission.dispose();
  await store.close();
});

test("sessions of other replicas in the store count against MAX_SANDBOXES and hold their place in line", async () => {
  const store = await openStore(':memory:');
  const timers = createFakeTimers(10_000);
  await store.saveSession({ id: 'other-ready', learnerId: 'x', labId: 'l', phase: 'ready', createdAt: 1, expiresAt: 99_999 });
  await store.saveSession({ id: 'other-queued', learnerId: 'y', labId: 'l', phase: 'queued', createdAt: 2, expiresAt: 99_999 });
  await store.saveSession({ id: 'gone', learnerId: 'z', labId: 'l', phase: 'ready', createdAt: 0, expiresAt: 5_000 });
  const admission = createSharedAdmission({ store, holder: 'r2', maxSandboxes: 2, sandboxesOf: () => 1, idle: async () => {}, timers, log() {} });
  const local = [queued('mine', 3)];
  const started: string[] = [];
  await admission.pump(() => local, (ids) => started.push(...ids));
  assert.deepEqual(started, [], "one slot is left, and the other replica's learner came first");
  assert.deepEqual(admission.position(local, 'mine'), { position: 2, length: 2 });
  assert.deepEqual(admission.capacity(local), { inUse: 1, queued: 2 }, 'a session past its expiry holds nothing');
  admission.dispose();
  await store.close();
});

test("another replica's queued session that missed its turn (its replica died) stops holding the line", async () => {
  const store = await openStore(':memory:');
  const timers = createFakeTimers(10_000);
  // Queued on a replica that died before starting it; its learner closed the tab.
  await store.saveSession({ id: 'orphan', learnerId: 'y', labId: 'l', phase: 'queued', createdAt: 2, expiresAt: 10_000_000 });
  const admission = createSharedAdmission({ store, holder: 'r2', maxSandboxes: 1, sandboxesOf: () => 1, idle: async () => {}, timers, log() {} });
  const local = [queued('mine', 3)];
  const started: string[] = [];
  await admission.pump(() => local, (ids) => started.push(...ids));
  assert.equal(started.length, 0, 'at first it is the other replica\'s turn');
  timers.advance(STALE_TURN_MS - 1);
  await admission.pump(() => local, (ids) => started.push(...ids));
  assert.equal(started.length, 0, 'a live replica may still be starting it');
  assert.deepEqual(admission.position(local, 'mine'), { position: 2, length: 2 });
  timers.advance(1);
  await admission.pump(() => local, (ids) => started.push(...ids));
  assert.deepEqual(started, ['mine'], 'nobody took that turn: the next learner goes');
  admission.dispose();
  await store.close();
});
