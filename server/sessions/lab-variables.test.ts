// A learner's variable values against the real SQLite store: defaults until set, per learner and
// lab, only declared names, and a clear refusal for a value that is too long or not one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openStore } from './store.ts';
import { createLabVariables } from './lab-variables.ts';
import { AppError } from '../errors.ts';
import type { Lab } from '../labs/types.ts';

const lab = { id: 'ls', variables: { who: 'world', tag: '' } } as unknown as Lab;
const plain = { id: 'plain' } as unknown as Lab;

test('values: the defaults until set, then the learner\'s own, per learner; bad input refused and nothing stored', async () => {
  const store = await openStore(':memory:');
  const vars = createLabVariables({ store, lab: (id) => (id === 'ls' ? lab : id === 'plain' ? plain : undefined), now: () => 1000 });
  assert.deepEqual(await vars.values('a', 'ls'), { who: 'world', tag: '' });
  assert.deepEqual(await vars.set('a', 'ls', { who: 'Ada <b>' }), { who: 'Ada <b>', tag: '' });
  assert.deepEqual(await vars.values('a', 'ls'), { who: 'Ada <b>', tag: '' });
  assert.deepEqual(await vars.values('b', 'ls'), { who: 'world', tag: '' });
  assert.deepEqual(await vars.values('a', 'plain'), {});

  const refused = async (values: unknown, message: RegExp) =>
    assert.rejects(vars.set('a', 'ls', values), (e: unknown) => e instanceof AppError && e.code === 'bad_request' && message.test(e.message));
  await refused({ who: 'x'.repeat(10 * 1024 * 1024) }, /is 10,485,760 characters long; a value may have at most 500/);
  await refused({ who: 'ok\nrm -rf /' }, /control character \(a line break\)/);
  await refused({ nope: 'x' }, /no variable called "nope"/);
  await refused({ who: 'fine', tag: 'bad\u001b[31m' }, /escape/);
  await refused(undefined, /name → value pairs/);
  await assert.rejects(vars.set('a', 'plain', { who: 'x' }), /no variable called "who"/);
  await assert.rejects(vars.set('a', 'gone', { who: 'x' }), /no lab called "gone"/);
  // A refused set changes nothing, not even its good half.
  assert.deepEqual(await vars.values('a', 'ls'), { who: 'Ada <b>', tag: '' });
  await store.close();
});
