import assert from 'node:assert/strict';
import test from 'node:test';
import type { Lab } from '../labs/types.ts';
import type { HintView } from '../protocol/workshop.ts';
import { createFakeTimers } from '../fake-timers.test-support.ts';
import { createHintService } from './hint-service.ts';

const lab = { id: 'l1', meta: {}, steps: [{ id: 's1', checks: [{ hint: 'Look at the FROM line.' }] }] } as unknown as Lab;

test('a stuck learner gets the hint on the injected clock, once, and not after dispose', () => {
  const timers = createFakeTimers(5_000);
  const sent: [string, HintView][] = [];
  const hints = createHintService({
    lab: (id) => (id === 'l1' ? lab : undefined),
    send: (learnerId, h) => sent.push([learnerId, h]),
    defaultStuckMs: 60_000,
    failuresBeforeHint: 2,
    tickMs: 1_000,
    timers,
  });
  hints.observer.stepStarted({ learnerId: 'ann', labId: 'l1' }, 's1');
  timers.advance(59_000);
  assert.deepEqual(sent, []);
  timers.advance(1_000);
  assert.deepEqual(sent, [['ann', { labId: 'l1', stepId: 's1', text: 'Look at the FROM line.' }]]);
  timers.advance(120_000);
  assert.equal(sent.length, 1);
  assert.deepEqual(hints.hintsFor('ann', 'l1'), [{ labId: 'l1', stepId: 's1', text: 'Look at the FROM line.' }]);
  hints.dispose();
  assert.equal(timers.pending(), 0);
});
