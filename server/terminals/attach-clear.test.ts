import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ATTACH_CLEAR, createAttachClearFilter } from './attach-clear.ts';

test('the attach clear is dropped from the head, even when split across chunks; later output passes untouched', () => {
  const out: string[] = [];
  const f = createAttachClearFilter((d) => out.push(d));
  f.push('\x1b[H');
  assert.deepEqual(out, [], 'held until the clear is complete');
  f.push('\x1b[Jprompt $ ');
  f.push(ATTACH_CLEAR); // a learner's own `clear` later on stays
  assert.deepEqual(out, ['prompt $ ', ATTACH_CLEAR]);
});

test('without a clear the head is released after 64 chars, or at flush', () => {
  const out: string[] = [];
  const f = createAttachClearFilter((d) => out.push(d));
  f.push('x'.repeat(63));
  assert.deepEqual(out, []);
  f.push('y');
  assert.deepEqual(out, ['x'.repeat(63) + 'y']);
  const out2: string[] = [];
  const g = createAttachClearFilter((d) => out2.push(d));
  g.push('dtach: no such socket');
  g.flush();
  g.flush();
  assert.deepEqual(out2, ['dtach: no such socket'], 'released once');
});
