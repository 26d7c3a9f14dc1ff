import { test } from 'node:test';
import assert from 'node:assert/strict';
import { timeLeftText } from './time-left.ts';

test('the session clock says hours and minutes in words', () => {
  const min = 60_000;
  assert.equal(timeLeftText((3 * 60 + 59) * min + 30_000), '3 h 59 min left');
  assert.equal(timeLeftText(2 * 60 * min), '2 h left');
  assert.equal(timeLeftText(59 * min + 59_000), '59 min left');
  assert.equal(timeLeftText(1 * min), '1 min left');
  assert.equal(timeLeftText(59_000), 'under a minute left');
  assert.equal(timeLeftText(-5_000), 'under a minute left');
});
