import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SandboxRef } from '../../sandbox/driver/types.ts';
import type { CheckContext } from '../checks/evaluate.ts';
import type { CheckResult, CheckSpec } from '../checks/types.ts';
import type { Lab, LabStep } from '../labs/types.ts';
import type { SandboxLedger } from './sandboxes.ts';
import { verifyLab, type LabRunDeps } from './verify-lab.ts';
import { createFakeTimers } from '../fake-timers.test-support.ts';

/** A world where each block creates a file named after it and each check asks whether its file exists. */
function world(opts: { failOpen?: boolean; hangOn?: string } = {}) {
  const files = new Set<string>();
  const events: string[] = [];
  const ref = { id: 'sb1', node: 1, sessionId: 's', workdir: '/root' } as SandboxRef;
  const ledger: SandboxLedger = {
    async open() {
      events.push('open');
      if (opts.failOpen) throw new Error('no capacity');
      return { sessionId: 's', refs: [ref], dispose: async () => void events.push('dispose') };
    },
    async disposeAll() {},
  };
  const deps: LabRunDeps = {
    sandboxes: ledger,
    openShell: () => ({
      shell: {
        ready: async () => {},
        run: async (code) => {
          events.push(`run ${code}`);
          if (code === opts.hangOn) return { output: '', exitCode: null, timedOut: true, ms: 5 };
          if (code.startsWith('rm ')) files.delete(code.slice(3));
          else files.add(code.replace('touch ', ''));
          return { output: `$ ${code}`, exitCode: 0, timedOut: false, ms: 5 };
        },
      },
      dispose: () => void events.push('close shell'),
    }),
    checkContext: () => ({}) as CheckContext,
    watchChecks: () => ({ dispose: () => {} }),
    timers: createFakeTimers(),
    evaluate: async (specs: readonly CheckSpec[]) => {
      events.push(`check ${specs.map((s) => s.id).join(',')}`);
      return specs.map((s): CheckResult => {
        const path = (s as { path: string }).path;
        return { id: s.id, status: files.has(path) ? 'pass' : 'fail', expected: path, message: path, at: 0, durationMs: 0 };
      });
    },
    now: () => 0,
    progress: () => {},
  };
  return { deps, events, files };
}

const step = (i: number, blocks: string[], checkFiles: string[]): LabStep => ({
  id: `s${i}`, index: i - 1, title: `Step ${i}`, line: i,
  blocks: blocks.map((code, j) => ({ id: `b${i}${j}`, term: 1, code, line: i })),
  checks: checkFiles.map((path, j) => ({ id: `s${i}.c${j + 1}`, line: i, kind: 'file.exists', path, exists: true }) as CheckSpec),
});

const lab = (steps: LabStep[]): Lab => ({
  id: '09-test', file: '/x/lab.md', title: 'Test', description: '', tags: [], images: [], terms: 1, meta: {}, steps, html: '', problems: [],
});

test('positive mode: blocks in order, each step checked after its blocks, sandbox removed at the end', async () => {
  const { deps, events } = world();
  const r = await verifyLab(lab([step(1, ['touch a'], ['a']), step(2, ['touch b', 'touch c'], ['b', 'c'])]), deps, { negative: false, blockTimeoutMs: 1000, settleMs: 0, variants: [] });
  assert.equal(r.status, 'ok');
  assert.deepEqual(events, ['open', 'run touch a', 'check s1.c1', 'run touch b', 'run touch c', 'check s2.c1,s2.c2', 'close shell', 'dispose']);
  assert.deepEqual(r.steps.map((s) => s.checks?.map((c) => c.status)), [['pass'], ['pass', 'pass']]);
});

test('negative mode: each step is checked before its blocks (earlier steps done) and must fail; a step that passes anyway is weak', async () => {
  const { deps, events } = world();
  // Step 2 only re-checks step 1's file: it cannot fail.
  const r = await verifyLab(lab([step(1, ['touch a'], ['a']), step(2, ['touch b'], ['a']), step(3, ['touch c'], ['a', 'c'])]), deps, { negative: true, blockTimeoutMs: 1000, settleMs: 0, variants: [] });
  assert.deepEqual(events.slice(0, 4), ['open', 'check s1.c1', 'run touch a', 'check s1.c1']);
  assert.deepEqual(r.steps.map((s) => s.without?.verdict.kind), ['can-fail', 'weak', 'can-fail']);
  assert.deepEqual(r.steps[2]!.without!.verdict, { kind: 'can-fail', failing: ['s3.c2'] });
  assert.equal(r.status, 'failed');
});

test('a known-wrong variant is typed after the run and must make every check of its target kinds fail', async () => {
  const { deps } = world();
  const l = lab([step(1, ['touch a', 'touch b'], ['a', 'b'])]);
  (l.steps[0]!.checks[1] as { kind: string }).kind = 'file.contains';
  const variant = (blocks: string[], kind: 'file.contains' | 'file.exists') => ({ lab: '09-test', step: 'Step 1', name: 'forgets b', blocks, mustFail: [kind] });
  const caught = await verifyLab(l, deps, { negative: true, blockTimeoutMs: 1000, settleMs: 0, variants: [variant(['rm b'], 'file.contains')] });
  assert.equal(caught.variants[0]!.ok, true);
  assert.deepEqual(caught.variants[0]!.mustFail, ['s1.c2']);
  assert.equal(caught.status, 'ok');
  // Offered to the file.exists check of "a", which the wrong variant leaves alone: not caught.
  const missed = await verifyLab(l, deps, { negative: true, blockTimeoutMs: 1000, settleMs: 0, variants: [variant(['rm b'], 'file.exists')] });
  assert.equal(missed.variants[0]!.ok, false);
  assert.match(missed.variants[0]!.detail, /passed the wrong build: s1\.c1/);
  assert.equal(missed.status, 'failed');
  // Variants are a negative-mode thing.
  assert.deepEqual((await verifyLab(l, deps, { negative: false, blockTimeoutMs: 1000, settleMs: 0, variants: [variant(['rm b'], 'file.contains')] })).variants, []);
});

test('a block that times out fails the lab, later steps still run, and the sandbox is removed', async () => {
  const { deps, events } = world({ hangOn: 'touch a' });
  const r = await verifyLab(lab([step(1, ['touch a'], ['a']), step(2, ['touch b'], ['b'])]), deps, { negative: false, blockTimeoutMs: 1000, settleMs: 0, variants: [] });
  assert.equal(r.status, 'failed');
  assert.equal(r.steps[0]!.blocks[0]!.timedOut, true);
  assert.deepEqual(r.steps[1]!.checks?.map((c) => c.status), ['pass']);
  assert.equal(events.at(-1), 'dispose');
});

test('a sandbox that does not start makes the lab broken, with the reason', async () => {
  const { deps } = world({ failOpen: true });
  const r = await verifyLab(lab([step(1, ['touch a'], ['a'])]), deps, { negative: false, blockTimeoutMs: 1000, settleMs: 0, variants: [] });
  assert.equal(r.status, 'broken');
  assert.deepEqual(r.problems, ['the sandbox did not start: no capacity']);
});

test('a lab with load problems is broken without creating a sandbox', async () => {
  const { deps, events } = world();
  const l = { ...lab([]), problems: [{ file: '09-test/lab.md', line: 4, message: 'unknown check key "sise"' }] };
  const r = await verifyLab(l, deps, { negative: false, blockTimeoutMs: 1000, settleMs: 0, variants: [] });
  assert.equal(r.status, 'broken');
  assert.deepEqual(r.problems, ['09-test/lab.md:4: unknown check key "sise"']);
  assert.deepEqual(events, []);
});

test('a check that fails after its blocks gets the settle time: an engine event that passes it makes the step ok; with 0 it fails', async () => {
  for (const settleMs of [5_000, 0]) {
    const { deps, events, files } = world();
    // The engine tells the watcher, a moment after the block, that the file's container became healthy.
    deps.watchChecks = (_ctx, pending, onResults) => {
      events.push(`watch ${pending().map((s) => s.id).join(',')}`);
      setImmediate(() => {
        files.add('late');
        void deps.evaluate(pending(), {} as CheckContext).then(onResults);
      });
      return { dispose: () => void events.push('unwatch') };
    };
    const r = await verifyLab(lab([step(1, ['touch a'], ['a', 'late'])]), deps, { negative: false, blockTimeoutMs: 1000, settleMs, variants: [] });
    if (settleMs > 0) {
      assert.equal(r.status, 'ok');
      assert.deepEqual(events.slice(1, 6), ['run touch a', 'check s1.c1,s1.c2', 'watch s1.c2', 'check s1.c2', 'unwatch']);
    } else {
      assert.equal(r.status, 'failed');
      assert.ok(!events.some((e) => e.startsWith('watch')));
    }
  }
});
