import { test } from 'node:test';
import assert from 'node:assert/strict';
import { admit, queuePosition, sandboxesInUse, extendedExpiry, canExtend, type SessionLike } from './lifecycle.ts';

const s = (id: string, phase: SessionLike['phase'], createdAt: number, sandboxes = 1): SessionLike => ({ id, phase, createdAt, expiresAt: createdAt + 1000, sandboxes, seq: createdAt });

test('counts only starting and ready sessions against capacity', () => {
  assert.equal(sandboxesInUse([s('a', 'ready', 1, 2), s('b', 'starting', 2), s('c', 'queued', 3), s('d', 'expired', 4)]), 3);
});

test('admits queued sessions first come, first served, without overtaking', () => {
  const all = [s('r', 'ready', 0, 2), s('big', 'queued', 1, 3), s('small', 'queued', 2, 1)];
  assert.deepEqual(admit(all, 4), [], 'big does not fit; small must not overtake it');
  assert.deepEqual(admit(all, 5), ['big']);
  assert.deepEqual(admit(all, 6), ['big', 'small']);
});

test('queue positions are 1-based in arrival order', () => {
  const all = [s('b', 'queued', 20), s('a', 'queued', 10), s('x', 'ready', 0)];
  assert.deepEqual(queuePosition(all, 'a'), { position: 1, length: 2 });
  assert.deepEqual(queuePosition(all, 'b'), { position: 2, length: 2 });
  assert.equal(queuePosition(all, 'x'), undefined);
});

test('extension adds time to the expiry but never past the maximum', () => {
  const sess = { createdAt: 0, expiresAt: 100 };
  assert.equal(extendedExpiry(sess, 50, 100, 1000), 200);
  assert.equal(extendedExpiry(sess, 950, 100, 1000), 1000);
  assert.equal(extendedExpiry({ createdAt: 0, expiresAt: 950 }, 10, 100, 1000), 1000, 'capped');
  assert.equal(canExtend({ createdAt: 0, expiresAt: 1000 }, 1000), false);
});

test('the same millisecond: arrival order breaks the tie, then the id (the same on every replica)', () => {
  const tie = (id: string, seq: number): SessionLike => ({ ...s(id, 'queued', 5), seq });
  assert.deepEqual(admit([tie('b', 1), tie('a', 2)], 1), ['b'], 'arrival first on one replica');
  assert.deepEqual(admit([tie('b', 0), tie('a', 0)], 1), ['a'], 'then the id, when replicas share the queue');
  assert.deepEqual(queuePosition([tie('a', 0), tie('b', 0)], 'b'), queuePosition([tie('b', 0), tie('a', 0)], 'b'), 'whatever order each replica read them in');
});
