import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CheckResult, CheckSpec } from '../checks/types.ts';
import { createFakeTimers } from '../fake-timers.test-support.ts';
import { settleChecks, type SettleDeps } from './settle.ts';

const spec = (id: string, withinMs?: number): CheckSpec => ({ id, line: 1, kind: 'container.health', container: id, health: 'healthy', ...(withinMs === undefined ? {} : { withinMs }) });
const res = (id: string, status: 'pass' | 'fail'): CheckResult => ({ id, status, expected: '', message: status, at: 0, durationMs: 0 });
const tick = () => new Promise((r) => setImmediate(r));

/** A sandbox whose state is `passing`; the watcher is a handle the test fires as the engine would. */
function world() {
  const timers = createFakeTimers(1000);
  const passing = new Set<string>();
  const log: string[] = [];
  let watcher: { pending: () => readonly CheckSpec[]; onResults: (r: CheckResult[]) => void; disposed: boolean } | undefined;
  const deps: SettleDeps = {
    timers,
    evaluate: async (specs) => {
      log.push(`evaluate ${specs.map((s) => s.id).join(',')} at ${timers.now()}`);
      return specs.map((s) => res(s.id, passing.has(s.id) ? 'pass' : 'fail'));
    },
    watch: (pending, onResults) => {
      const w = { pending, onResults, disposed: false };
      watcher = w;
      log.push(`watch ${pending().map((s) => s.id).join(',')}`);
      return { dispose: () => { w.disposed = true; log.push('dispose'); } };
    },
  };
  /** An engine event: the watcher evaluates what is pending, as createCheckWatcher does. */
  const event = () => watcher!.onResults(watcher!.pending().map((s) => res(s.id, passing.has(s.id) ? 'pass' : 'fail')));
  return { timers, passing, log, deps, event, watcher: () => watcher };
}

test('a check that fails after its blocks passes on a later engine event, before its settle time is up', async () => {
  const w = world();
  const done = settleChecks([spec('a'), spec('b')], [res('a', 'pass'), res('b', 'fail')], 10_000, w.deps);
  await tick();
  assert.deepEqual(w.watcher()!.pending().map((s) => s.id), ['b'], 'only the failing check is watched');
  w.timers.advance(1_000);
  w.passing.add('b');
  w.event();
  const r = await done;
  assert.deepEqual(r.map((x) => x.status), ['pass', 'pass']);
  assert.deepEqual(w.log, ['watch b', 'dispose']);
  assert.equal(w.timers.pending(), 0, 'the deadline timer is cleared');
});

test('a check that never passes is looked at once more at its deadline, then fails', async () => {
  const w = world();
  const done = settleChecks([spec('b')], [res('b', 'fail')], 10_000, w.deps);
  await tick();
  w.event();
  w.timers.advance(9_999);
  assert.equal(w.watcher()!.disposed, false);
  w.timers.advance(1);
  const r = await done;
  assert.deepEqual(r.map((x) => x.status), ['fail']);
  assert.deepEqual(w.log, ['watch b', 'evaluate b at 11000', 'dispose']);
});

test('what sends no event (a file, a command) is caught by the look at the deadline', async () => {
  const w = world();
  const done = settleChecks([spec('f')], [res('f', 'fail')], 3_000, w.deps);
  await tick();
  w.passing.add('f');
  w.timers.advance(3_000);
  assert.deepEqual((await done).map((x) => x.status), ['pass']);
});

test('within: gives a check its own time; a check whose time is up is no longer watched and its verdict stands', async () => {
  const w = world();
  const done = settleChecks([spec('quick', 2_000), spec('slow', 30_000), spec('never', 0)], [res('quick', 'fail'), res('slow', 'fail'), res('never', 'fail')], 10_000, w.deps);
  await tick();
  assert.deepEqual(w.watcher()!.pending().map((s) => s.id), ['quick', 'slow'], 'within: 0 is judged at once');
  w.timers.advance(2_000);
  await tick();
  assert.deepEqual(w.watcher()!.pending().map((s) => s.id), ['slow']);
  w.passing.add('quick'); // too late for it
  w.timers.advance(15_000); // past the default: slow is still waited for
  await tick();
  w.passing.add('slow');
  w.event();
  const r = await done;
  assert.deepEqual(r.map((x) => `${x.id} ${x.status}`), ['quick fail', 'slow pass', 'never fail']);
  assert.deepEqual(w.log, ['watch quick,slow', 'evaluate quick at 3000', 'dispose']);
});

test('settle time 0: the first results are the verdict, nothing is watched', async () => {
  const w = world();
  const r = await settleChecks([spec('a')], [res('a', 'fail')], 0, w.deps);
  assert.deepEqual(r.map((x) => x.status), ['fail']);
  assert.deepEqual(w.log, []);
});
