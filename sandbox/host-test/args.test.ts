import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHostTestArgs, STEPS, UsageError } from './args.ts';

test('no arguments: every case, every step, the VM killed afterwards', () => {
  assert.deepEqual(parseHostTestArgs([]), { mode: 'run', cases: [1, 2], keep: false, skipTests: false, steps: [...STEPS], reuse: false });
});

test('one case, kept; --skip-tests keeps the VM too', () => {
  assert.deepEqual(parseHostTestArgs(['--case', '2', '--keep']), { mode: 'run', cases: [2], keep: true, skipTests: false, steps: [...STEPS], reuse: false });
  const o = parseHostTestArgs(['--case', '1', '--skip-tests']);
  assert.equal(o.mode === 'run' && o.keep, true);
});

test('--reuse measures one case in the kept VM, which stays kept', () => {
  const o = parseHostTestArgs(['--case', '1', '--reuse', '--steps', 'facts,start,learner']);
  assert.equal(o.mode === 'run' && o.reuse && o.keep, true);
});

test('--exec, --sync and --stop are commands of their own', () => {
  assert.deepEqual(parseHostTestArgs(['--exec', 'docker info']), { mode: 'exec', command: 'docker info' });
  assert.deepEqual(parseHostTestArgs(['--sync']), { mode: 'sync' });
  assert.throws(() => parseHostTestArgs(['--exec', 'x', '--sync']), UsageError);
  assert.throws(() => parseHostTestArgs(['--exec', ' ']), /needs a command/);
});

test('bad input is refused with a reason', () => {
  assert.throws(() => parseHostTestArgs(['--case', '9']), /no such case/);
  assert.throws(() => parseHostTestArgs(['--steps', 'start,bogus']), /unknown step "bogus"/);
  assert.throws(() => parseHostTestArgs(['--steps', 'learner']), /learner needs start/);
  assert.throws(() => parseHostTestArgs(['--frobnicate']), UsageError);
  assert.throws(() => parseHostTestArgs(['--reuse']), /add --case N/);
});
