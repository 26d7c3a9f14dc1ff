import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Timers } from '../timers.ts';
import { createLease } from './lease.ts';
import { openStore } from './store.ts';

/** A clock moved by hand; a "dead" replica's timers simply never fire again. */
function fakeTimers() {
  let now = 1_000_000;
  let seq = 0;
  const due = new Map<number, { at: number; fn: () => void; owner: Set<number> }>();
  const make = (): Timers & { kill(): void } => {
    const mine = new Set<number>();
    return {
      now: () => now,
      setTimeout(fn, ms) {
        const id = ++seq;
        due.set(id, { at: now + ms, fn, owner: mine });
        mine.add(id);
        return id;
      },
      clearTimeout: (id) => void due.delete(id as number),
      kill: () => mine.forEach((id) => due.delete(id)),
    };
  };
  const advance = async (ms: number) => {
    const end = now + ms;
    for (;;) {
      const next = [...due.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!next) break;
      now = next[1].at;
      due.delete(next[0]);
      next[1].fn();
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    }
    now = end;
  };
  return { make, advance };
}

test('a lease runs in one replica; when its holder dies, another takes over after the TTL', async () => {
  const store = await openStore(':memory:');
  const clock = fakeTimers();
  const ta = clock.make(), tb = clock.make();
  const changes: string[] = [];
  const a = createLease({ store, name: 'timers', holder: 'A', ttlMs: 30_000, timers: ta, log: () => {}, onChange: (h) => changes.push(`A ${h}`) });
  const b = createLease({ store, name: 'timers', holder: 'B', ttlMs: 30_000, timers: tb, log: () => {}, onChange: (h) => changes.push(`B ${h}`) });
  assert.equal(await a.renew(), true);
  assert.equal(await b.renew(), false);
  await clock.advance(120_000);
  assert.deepEqual([a.held(), b.held()], [true, false], 'A keeps renewing; B never gets it');
  ta.kill(); // A's process dies: no more renewals, no release
  await clock.advance(25_000);
  assert.equal(b.held(), false, 'not before the lease lapses');
  await clock.advance(30_000);
  assert.equal(b.held(), true, 'B took over once it lapsed');
  assert.deepEqual(changes, ['A true', 'B true']);
  await b.dispose();
  assert.equal(await store.takeLease('timers', 'C', 30_000, ta.now()), true, 'a clean shutdown frees the lease at once');
  await a.dispose();
  await store.close();
});
