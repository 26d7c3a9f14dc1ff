// The gate in front of the engine tests: an absent engine fails loudly; only the explicit env skips.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requireEngine, SKIP_ENV } from './engine-gate.test-support.ts';

test('no engine answering fails with what to run', async () => {
  await assert.rejects(requireEngine({}, '/nonexistent/docker.sock'), /^Error: no Docker engine: run sandbox\/host\/setup\.sh/);
});

test('only LABLAB_SKIP_ENGINE_TESTS=1 skips', async () => {
  assert.equal(await requireEngine({ [SKIP_ENV]: '1' }, '/nonexistent/docker.sock'), 'LABLAB_SKIP_ENGINE_TESTS=1');
  await assert.rejects(requireEngine({ [SKIP_ENV]: 'yes' }, '/nonexistent/docker.sock'));
});
