import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HintTracker, hintAfterMs } from './hint-tracker.ts';

const rules = () => ({ failuresBeforeHint: 2, stuckMs: 5 * 60_000 });
const tracker = () => new HintTracker(rules, (_lab, step) => step !== 'no-hint');

test('the hint is due after the second failing evaluation of its step, once', () => {
  const t = tracker();
  assert.deepEqual(t.results('ann|lab', 'lab', [{ stepId: 's1', status: 'fail' }, { stepId: 's1', status: 'pass' }], true), []);
  assert.deepEqual(t.results('ann|lab', 'lab', [{ stepId: 's1', status: 'fail' }], true), ['s1']);
  assert.deepEqual(t.results('ann|lab', 'lab', [{ stepId: 's1', status: 'fail' }], true), []);
  assert.deepEqual(t.shown('ann|lab'), ['s1']);
  // Another learner is counted apart.
  assert.deepEqual(t.results('bob|lab', 'lab', [{ stepId: 's1', status: 'fail' }], true), []);
});

test('pending results and passes do not count as failures; a passed step never shows its hint', () => {
  const t = tracker();
  assert.deepEqual(t.results('k', 'lab', [{ stepId: 's1', status: 'pending' }], true), []);
  assert.deepEqual(t.results('k', 'lab', [{ stepId: 's1', status: 'pending' }], true), []);
  assert.deepEqual(t.results('k', 'lab', [{ stepId: 's1', status: 'fail' }], true), []);
  t.results('k', 'lab', [{ stepId: 's1', status: 'pass' }], true);
  assert.deepEqual(t.results('k', 'lab', [{ stepId: 's1', status: 'fail' }], true), []);
});

test('an automatic check counts a failure only after the learner ran a block of the step, once per run', () => {
  const t = tracker();
  for (let i = 0; i < 3; i++) assert.deepEqual(t.results('k', 'lab', [{ stepId: 's1', status: 'fail' }], false), [], 'prompts coming back are not failures');
  t.stepStarted('k', 'lab', 's1', 0);
  assert.deepEqual(t.results('k', 'lab', [{ stepId: 's1', status: 'fail' }], false), []);
  assert.deepEqual(t.results('k', 'lab', [{ stepId: 's1', status: 'fail' }], false), [], 'the same run is not counted twice');
  t.stepStarted('k', 'lab', 's1', 1);
  assert.deepEqual(t.results('k', 'lab', [{ stepId: 's1', status: 'fail' }], false), ['s1']);
});

test('steps without a hint (PWD-style labs) are never tracked', () => {
  const t = tracker();
  for (let i = 0; i < 5; i++) assert.deepEqual(t.results('k', 'lab', [{ stepId: 'no-hint', status: 'fail' }], true), []);
  t.stepStarted('k', 'lab', 'no-hint', 0);
  assert.deepEqual(t.tick(10 * 60_000, () => 'lab'), []);
});

test('the hint is due after the stuck time on a started step', () => {
  const t = tracker();
  t.stepStarted('k', 'lab', 's2', 1000);
  assert.deepEqual(t.tick(1000 + 4 * 60_000, () => 'lab'), []);
  assert.deepEqual(t.tick(1000 + 5 * 60_000, () => 'lab'), [['k', 's2']]);
  assert.deepEqual(t.tick(1000 + 9 * 60_000, () => 'lab'), []);
});

test('hint_after accepts 90s, 5m, 1h and plain minutes', () => {
  assert.equal(hintAfterMs('90s', 1), 90_000);
  assert.equal(hintAfterMs('5m', 1), 300_000);
  assert.equal(hintAfterMs(2, 1), 120_000);
  assert.equal(hintAfterMs(undefined, 7), 7);
  assert.equal(hintAfterMs('soon', 7), 7);
});
