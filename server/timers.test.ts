import assert from 'node:assert/strict';
import test from 'node:test';
import { createFakeTimers } from './fake-timers.test-support.ts';
import { every } from './timers.ts';

test('every() repeats on the clock it is given and stops for good', () => {
  const timers = createFakeTimers(1_000);
  const at: number[] = [];
  const stop = every(timers, 100, () => at.push(timers.now()));
  timers.advance(99);
  assert.deepEqual(at, []);
  timers.advance(251);
  assert.deepEqual(at, [1_100, 1_200, 1_300]);
  stop();
  assert.equal(timers.pending(), 0);
  timers.advance(1_000);
  assert.deepEqual(at, [1_100, 1_200, 1_300]);
});

test('every(): a chore that stops its own repetition is not called again', () => {
  const timers = createFakeTimers();
  let n = 0;
  const stop = every(timers, 10, () => {
    n++;
    stop();
  });
  timers.advance(100);
  assert.equal(n, 1);
  assert.equal(timers.pending(), 0);
});
