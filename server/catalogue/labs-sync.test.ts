import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFakeTimers } from '../fake-timers.test-support.ts';
import type { GitCheckout } from './git-checkout.ts';
import { parseLabsRepo } from './labs-repos.ts';
import { createLabsSync } from './labs-sync.ts';

/** A checkout whose refreshes the test releases one by one. */
function checkout(name: string) {
  let commit: string | undefined;
  const waiting: { resolve: (s: 'updated' | 'unchanged') => void; reject: (e: Error) => void }[] = [];
  const c: GitCheckout = {
    repo: parseLabsRepo(`https://example.org/${name}.git`),
    dir: () => (commit ? `/data/${name}/tree-${commit}` : undefined),
    commit: () => commit,
    refresh: () => new Promise((resolve, reject) => waiting.push({ resolve, reject })),
  };
  const tick = () => new Promise((r) => setImmediate(r));
  return {
    c,
    started: () => waiting.length,
    async moveTo(next: string) {
      await tick();
      commit = next;
      waiting.shift()!.resolve('updated');
      await tick();
    },
    async same() {
      await tick();
      waiting.shift()!.resolve('unchanged');
      await tick();
    },
    async fail(msg: string) {
      await tick();
      waiting.shift()!.reject(new Error(msg));
      await tick();
    },
  };
}

test('a refresh that moves a repository reloads the catalogue; one that fails keeps the last good commit and says why', async () => {
  const a = checkout('a');
  const b = checkout('b');
  let reloads = 0;
  const sync = createLabsSync({ checkouts: [a.c, b.c], timers: createFakeTimers(), intervalMs: 0, onUpdated: async () => void reloads++, log: () => {} });
  const first = sync.refresh();
  await a.moveTo('c1');
  await b.fail('git fetch: Connection refused');
  assert.deepEqual(await first, [
    { repo: 'https://example.org/a.git', status: 'updated', commit: 'c1' },
    { repo: 'https://example.org/b.git', status: 'failed', error: 'git fetch: Connection refused' },
  ]);
  assert.equal(reloads, 1);
  assert.deepEqual(sync.dirs(), ['/data/a/tree-c1'], 'b has no good checkout yet: not served');
  const second = sync.refresh();
  await a.fail('git fetch: timed out');
  await b.same();
  assert.deepEqual((await second).map((r) => [r.status, r.commit]), [['failed', 'c1'], ['unchanged', undefined]]);
  assert.equal(reloads, 1, 'nothing moved: no reload');
  assert.deepEqual(sync.dirs(), ['/data/a/tree-c1']);
});

test('one refresh at a time: hooks during one get a single next one, started when it ends', async () => {
  const a = checkout('a');
  const sync = createLabsSync({ checkouts: [a.c], timers: createFakeTimers(), intervalMs: 0, onUpdated: async () => {}, log: () => {} });
  const r1 = sync.refresh();
  const r2 = sync.refresh();
  const r3 = sync.refresh();
  assert.equal(r2, r3, 'coalesced');
  await a.moveTo('c1');
  assert.equal((await r1)[0]!.commit, 'c1');
  assert.equal(a.started(), 1, 'the next refresh started after the first ended');
  await a.moveTo('c2');
  assert.equal((await r2)[0]!.commit, 'c2');
});

test('LABS_REFRESH: refreshed on the interval until disposed', async () => {
  const a = checkout('a');
  const timers = createFakeTimers();
  const sync = createLabsSync({ checkouts: [a.c], timers, intervalMs: 60_000, onUpdated: async () => {}, log: () => {} });
  timers.advance(59_999);
  assert.equal(a.started(), 0);
  timers.advance(1);
  assert.equal(a.started(), 1);
  await a.same();
  sync.dispose();
  timers.advance(600_000);
  assert.equal(a.started(), 0);
});
