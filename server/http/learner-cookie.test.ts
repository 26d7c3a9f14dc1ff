import { test } from 'node:test';
import assert from 'node:assert/strict';
import { signId, verifyId, readCookie, newLearnerId } from './learner-cookie.ts';

test('a signed id verifies; a tampered one does not', () => {
  const id = newLearnerId();
  const v = signId(id, 'secret');
  assert.equal(verifyId(v, 'secret'), id);
  assert.equal(verifyId(v, 'other-secret'), undefined);
  assert.equal(verifyId('x' + v, 'secret'), undefined);
  assert.equal(verifyId(id + '.AAAA', 'secret'), undefined);
  assert.equal(verifyId('', 'secret'), undefined);
  assert.equal(verifyId('../etc.passwd', 'secret'), undefined);
});

test('reads one cookie from a header', () => {
  assert.equal(readCookie('a=1; lab_learner=abc.def; b=2', 'lab_learner'), 'abc.def');
  assert.equal(readCookie('a=1', 'lab_learner'), undefined);
  assert.equal(readCookie('lab_learner=%E0%A4%A', 'lab_learner'), undefined);
});
