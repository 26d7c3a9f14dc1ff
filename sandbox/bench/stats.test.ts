import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixed, percentile } from './stats.ts';

test('percentile is the nearest rank: a sample that was seen, never an interpolation', () => {
  const xs = [5, 1, 4, 2, 3]; // unsorted on purpose
  assert.equal(percentile(xs, 50), 3);
  assert.equal(percentile(xs, 20), 1);
  assert.equal(percentile(xs, 21), 2);
  assert.equal(percentile(xs, 100), 5);
  assert.equal(percentile([10, 20], 50), 10);
  assert.equal(percentile([1, 2, 3, 4], 50), 2);
  const hundred = Array.from({ length: 100 }, (_, i) => 100 - i);
  assert.equal(percentile(hundred, 95), 95);
  assert.equal(percentile(hundred, 99), 99);
  assert.equal(percentile([7], 99), 7);
  assert.deepEqual(xs, [5, 1, 4, 2, 3], 'the input is not sorted in place');
});

test('percentile of nothing is NaN, and a p outside (0, 100] is refused', () => {
  assert.ok(Number.isNaN(percentile([], 50)));
  assert.throws(() => percentile([1], 0), RangeError);
  assert.throws(() => percentile([1], 101), RangeError);
});

test('fixed rounds, and keeps a missing figure as null for JSON', () => {
  assert.equal(fixed(1.26, 1), 1.3);
  assert.equal(fixed(1234.5), 1235);
  assert.equal(fixed(NaN), null);
  assert.equal(fixed(Infinity), null);
});
