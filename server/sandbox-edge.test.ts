import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from './errors.ts';
import { SandboxError } from '../sandbox/driver/errors.ts';
import { toAppError, withAppErrors } from './sandbox-edge.ts';

test('a SandboxError becomes an AppError with the same message; a lost engine is an ended session', () => {
  const e = toAppError(new SandboxError('capacity', 'no free subnet'));
  assert.ok(e instanceof AppError && e.code === 'capacity' && e.message === 'no free subnet');
  const lost = toAppError(new SandboxError('engine_lost', 'the machine your sandbox ran on is gone; start again'));
  assert.ok(lost instanceof AppError && lost.code === 'session_expired' && lost.status === 410);
  const other = new Error('x');
  assert.equal(toAppError(other), other);
});

test('withAppErrors maps rejections and sync throws, and passes results through', async () => {
  const driver = {
    n: 1,
    async create() { throw new SandboxError('sandbox_failed', 'could not start'); },
    check() { throw new SandboxError('bad_request', 'There is no port 0.'); },
    async ok() { return 42; },
    self() { return this.n; },
  };
  const d = withAppErrors(driver);
  await assert.rejects(d.create(), (e: unknown) => e instanceof AppError && e.code === 'sandbox_failed');
  assert.throws(() => d.check(), (e: unknown) => e instanceof AppError && e.code === 'bad_request');
  assert.equal(await d.ok(), 42);
  assert.equal(d.self(), 1);
  assert.equal(d.n, 1);
});
