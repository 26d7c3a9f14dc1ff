import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextNode, playLab } from './play-lab.ts';

test('a new node takes the lowest free number, none past the cap', () => {
  assert.equal(nextNode([1], 5), 2);
  assert.equal(nextNode([1, 3], 5), 2);
  assert.equal(nextNode([2, 3], 5), 1);
  assert.equal(nextNode([1, 2, 3, 4, 5], 5), undefined);
});

test('each playground session gets its own lab copy, so its node count is its own', () => {
  const a = playLab({ maxNodes: 5, images: ['busybox'] });
  const b = playLab({ maxNodes: 5, images: ['busybox'] });
  a.terms = 3;
  assert.equal(b.terms, 1);
  assert.deepEqual(a.playground, { maxNodes: 5 });
});
