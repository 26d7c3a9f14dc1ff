// The pool against drained and lost engines, with a fake driver and a fake clock: a unit on an
// engine that is no longer open is never handed out, and the pool refills on the open ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SandboxDriver, SandboxRef, SandboxSpec } from '../../sandbox/driver/types.ts';
import { createFakeTimers } from '../fake-timers.test-support.ts';
import { createWarmPool } from './warm-pool.ts';

const spec = { images: ['busybox'], terms: 1 };
const flush = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

function fakeFleet() {
  const open = new Set(['e1', 'e2']);
  /** Where the scheduler places the next creates: round-robin over the open engines. */
  let turn = 0;
  const created: SandboxRef[] = [];
  const destroyed: string[] = [];
  const driver = {
    createSessionNetwork: async (sid: string) => `net-${sid}`,
    removeSessionNetwork: async () => {},
    async create(s: SandboxSpec): Promise<SandboxRef> {
      const engines = [...open].sort();
      const ref = { id: `c${created.length}`, name: `n${created.length}`, sessionId: s.sessionId, node: 1, engine: engines[turn++ % engines.length], images: s.images.join(',') } as unknown as SandboxRef;
      created.push(ref);
      return ref;
    },
    waitReady: async () => {},
    ensureShell: async () => {},
    async destroy(ref: SandboxRef) {
      destroyed.push(ref.id);
    },
  } as unknown as SandboxDriver;
  return { open, driver, created, destroyed };
}

function pool(fleet: ReturnType<typeof fakeFleet>, engineOpen: ((e: string) => boolean) | undefined) {
  const timers = createFakeTimers(1_000_000);
  const p = createWarmPool({
    driver: fleet.driver, limits: {} as never, sessionMaxMs: 3_600_000, idleMaxMs: 3_600_000,
    capacity: () => ({ inUse: 0, queued: 0, max: 10 }), memoryHeadroomMiB: () => 100_000, idleSandboxMiB: 40,
    maxInFlight: 2, networkStock: 0, tickMs: 1000, refillQuietMs: 3000, timers, log: () => {}, engineOpen,
  });
  return { p, timers };
}

test('a unit on a drained engine is not handed out; it is removed and the pool refills on the open engine', async () => {
  const fleet = fakeFleet();
  const { p, timers } = pool(fleet, (e) => fleet.open.has(e));
  p.configure([spec], 2);
  await flush();
  assert.equal(p.stats().idleSandboxes, 2);
  assert.deepEqual(fleet.created.map((r) => r.engine).sort(), ['e1', 'e2']);

  fleet.open.delete('e1'); // drained (or lost)
  const taken = p.take(spec);
  assert.equal(taken?.[0]?.ref.engine, 'e2', 'the open engine\'s unit is handed out');
  await flush();
  assert.equal(p.take(spec), undefined, 'the drained engine\'s unit is not');
  const onE1 = fleet.created.find((r) => r.engine === 'e1')!;
  assert.deepEqual(fleet.destroyed, [onE1.id], 'and it is removed');

  timers.advance(4000); // the rush pauses: refill
  await flush();
  assert.equal(p.stats().idleSandboxes, 2);
  assert.deepEqual(fleet.created.slice(2).map((r) => r.engine), ['e2', 'e2'], 'refilled on the open engine only');
  await p.dispose();
});

test('the planning tick clears units of an engine lost meanwhile, before anyone asks', async () => {
  const fleet = fakeFleet();
  const { p, timers } = pool(fleet, (e) => fleet.open.has(e));
  p.configure([spec], 2);
  await flush();
  fleet.open.delete('e2');
  timers.advance(1000);
  await flush();
  const onE2 = fleet.created.find((r) => r.engine === 'e2')!;
  assert.ok(fleet.destroyed.includes(onE2.id));
  assert.equal(p.stats().idleSandboxes + p.stats().fillingSandboxes, 2, 'a replacement is on its way or ready');
  assert.ok(fleet.created.slice(2).every((r) => r.engine === 'e1'));
  await p.dispose();
});

test('a shape with a most (the playground\'s PLAY_POOL_SIZE) keeps only that many; a lab sharing its images keeps its full size', async () => {
  const fleet = fakeFleet();
  const { p } = pool(fleet, undefined);
  const lab = { images: ['golang:1.19', 'busybox'], terms: 1 };
  const play = { images: ['busybox', 'debian:bookworm-slim'], terms: 1, most: 1 };
  p.configure([lab, play], 4);
  await flush();
  const byImages = (images: string) => fleet.created.filter((r) => (r as unknown as { images?: string }).images === images).length;
  assert.equal(p.stats().idleSandboxes, 5, 'four of the lab, one playground');
  assert.equal(byImages('golang:1.19,busybox'), 4);
  assert.equal(byImages('busybox,debian:bookworm-slim'), 1);
  await p.dispose();

  const fleet2 = fakeFleet();
  const { p: p2 } = pool(fleet2, undefined);
  p2.configure([{ images: ['busybox'], terms: 2 }, { images: ['busybox'], terms: 1, most: 1 }], 3);
  await flush();
  assert.equal(p2.stats().idleSandboxes, 3, 'the same image set: the lab\'s size wins');
  await p2.dispose();
});
