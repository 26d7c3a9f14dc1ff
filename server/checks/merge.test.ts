import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeResult } from './merge.ts';
import type { CheckStatus } from './types.ts';

const r = (status: CheckStatus, message: string = status) => ({ id: 'a', status, message });

test('a check that passed stays passed', () => {
  const kept = r('pass', 'was there');
  assert.equal(mergeResult(kept, r('fail')), kept);
  assert.equal(mergeResult(kept, r('pending')), kept);
});

test('anything else takes the newer result', () => {
  assert.equal(mergeResult(r('fail'), r('pass')).status, 'pass');
  assert.equal(mergeResult(undefined, r('fail')).status, 'fail');
  assert.equal(mergeResult(r('fail', 'old reason'), r('fail', 'new reason')).message, 'new reason');
  assert.equal(mergeResult(r('fail'), r('pending')).status, 'pending');
  assert.equal(mergeResult(r('pass', 'old'), r('pass', 'new')).message, 'new');
});
