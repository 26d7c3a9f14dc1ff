import { test } from 'node:test';
import assert from 'node:assert/strict';
import { effectiveTarget, planPool, poolKey, splitByEngine, type PoolState } from './plan.ts';

const A = poolKey({ images: ['golang:1.19', 'busybox'] });
// The planner also handles units of several sandboxes (a unit size per key).
const B = poolKey({ images: ['busybox'] });

function state(over: Partial<PoolState> = {}): PoolState {
  return {
    targets: new Map([[A, 3]]),
    unitSize: new Map([[A, 1], [B, 2]]),
    idle: new Map(),
    filling: new Map(),
    inUse: 0,
    queued: 0,
    max: 50,
    memoryHeadroomMiB: 100_000,
    idleSandboxMiB: 40,
    maxInFlight: 10,
    ...over,
  };
}

test('the key is the image set, in any order', () => {
  assert.equal(poolKey({ images: ['b', 'a', 'a'] }), poolKey({ images: ['a', 'b'] }));
  assert.notEqual(poolKey({ images: ['a'] }), poolKey({ images: ['a', 'b'] }));
});

test('fills up to the target, counting units already being made, within the creates allowed in flight', () => {
  assert.deepEqual(planPool(state()).create, [A, A, A]);
  assert.deepEqual(planPool(state({ idle: new Map([[A, 1]]), filling: new Map([[A, 1]]) })).create, [A]);
  assert.deepEqual(planPool(state({ maxInFlight: 2, filling: new Map([[A, 1]]) })).create, [A]);
  assert.deepEqual(planPool(state({ idle: new Map([[A, 3]]) })).create, []);
});

test('a lab without images has a key too (the empty image set)', () => {
  const none = poolKey({ images: [] });
  assert.deepEqual(planPool(state({ targets: new Map([[none, 2]]), unitSize: new Map([[none, 1]]) })).create, [none, none]);
});

test('the key furthest below its target is filled first', () => {
  const p = planPool(state({ targets: new Map([[A, 2], [B, 2]]), idle: new Map([[A, 2]]), maxInFlight: 1 }));
  assert.deepEqual(p.create, [B]);
});

test('never takes room that running or queued learners need', () => {
  assert.deepEqual(planPool(state({ max: 10, inUse: 9 })).create, [A]);
  assert.deepEqual(planPool(state({ max: 10, inUse: 8, queued: 2 })).create, []);
  // A two-node unit does not fit in one free slot.
  assert.deepEqual(planPool(state({ targets: new Map([[B, 1]]), max: 10, inUse: 9 })).create, []);
});

test('gives idle sandboxes back when learners arrive and the host is full', () => {
  const p = planPool(state({ max: 10, inUse: 8, queued: 1, idle: new Map([[A, 3]]) }));
  assert.deepEqual(p, { create: [], evictSandboxes: 2 });
  // Only idle ones can be given back; those being made finish and are counted next time.
  assert.equal(planPool(state({ max: 10, inUse: 10, idle: new Map([[A, 1]]), filling: new Map([[A, 2]]) })).evictSandboxes, 1);
});

test('stops when the host has no memory to spare', () => {
  assert.deepEqual(planPool(state({ memoryHeadroomMiB: 85 })).create, [A, A]);
  assert.deepEqual(planPool(state({ memoryHeadroomMiB: 10 })).create, []);
});

test('an event raises the target only while its boost lasts', () => {
  const boosts = [{ count: 30, from: 1000, until: 2000 }];
  assert.equal(effectiveTarget(2, boosts, 999), 2);
  assert.equal(effectiveTarget(2, boosts, 1500), 30);
  assert.equal(effectiveTarget(2, boosts, 2000), 2);
  assert.equal(effectiveTarget(40, boosts, 1500), 40);
});

test('units on engines drained or lost since are split off; units with no engine are on the only one', () => {
  const u = (sid: string, engine?: string) => ({ sid, ref: { engine } });
  const open = new Set(['local', 'e3']);
  const { open: usable, closed } = splitByEngine([u('a', 'local'), u('b', 'e2'), u('c'), u('d', 'e3'), u('e', 'gone')], (e) => open.has(e));
  assert.deepEqual(usable.map((x) => x.sid), ['a', 'c', 'd']);
  assert.deepEqual(closed.map((x) => x.sid), ['b', 'e']);
});
