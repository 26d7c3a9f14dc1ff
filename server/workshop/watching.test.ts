import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Server } from 'socket.io';
import { createWatching } from './watching.ts';
import { createFakeTimers } from '../fake-timers.test-support.ts';
import type { SessionManager } from '../sessions/manager.ts';

function fakeSessions() {
  const calls: string[] = [];
  const terminal = {
    addViewer: (v: { id: string }) => calls.push(`add ${v.id}`),
    removeViewer: (id: string) => calls.push(`remove ${id}`),
    ack: (id: string, n: number) => calls.push(`ack ${id} ${n}`),
  };
  const sessions = {
    liveSessionOf: (learnerId: string) => (learnerId === 'served' ? { id: 's1' } : undefined),
    terminal: () => terminal,
    subscribe: () => () => {},
  } as unknown as SessionManager;
  return { sessions, calls };
}

test('a watch goes to the terminal of the session served here; one nobody receives is dropped at the sweep', async () => {
  const io = new Server();
  const timers = createFakeTimers();
  const { sessions, calls } = fakeSessions();
  const w = createWatching({ nsp: io.of('/workshop'), sessions, timers, sweepMs: 15_000, log: () => {} });
  assert.equal(w.start({ viewerId: 'v0', learnerId: 'elsewhere', labId: 'lab', node: 1 }), false, 'not served here');
  assert.equal(w.start({ viewerId: 'v1', learnerId: 'served', labId: 'lab', node: 1 }), true);
  assert.deepEqual(calls, ['add v1']);
  assert.equal(w.watched('served', 'lab'), true);
  w.ack('v1', 100);
  assert.deepEqual(calls.slice(1), ['ack v1 100']);
  // No socket sits in the room watch:v1 (the host page, or its replica, went away).
  await w.sweep();
  assert.deepEqual(calls.slice(2), ['remove v1'], 'the dead watcher no longer holds up the learner through flow control');
  assert.equal(w.watched('served', 'lab'), false);
  w.dispose();

});
