import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OutputBatcher, type Timers } from './output-batcher.ts';

function fakeTimers() {
  let t = 0;
  const pending: { at: number; fn: () => void; id: number }[] = [];
  let next = 1;
  const timers: Timers = {
    now: () => t,
    setTimeout: (fn, ms) => { const id = next++; pending.push({ at: t + ms, fn, id }); return id; },
    clearTimeout: (h) => { const i = pending.findIndex((p) => p.id === h); if (i >= 0) pending.splice(i, 1); },
  };
  const advance = (ms: number) => {
    t += ms;
    for (const p of pending.filter((p) => p.at <= t)) { pending.splice(pending.indexOf(p), 1); p.fn(); }
  };
  return { timers, advance };
}

const opts = { batchMs: 5, echoWindowMs: 50, maxBatchChars: 1000 };

test('batches output within the window into one frame', () => {
  const { timers, advance } = fakeTimers();
  const out: string[] = [];
  const b = new OutputBatcher((d) => out.push(d), opts, timers);
  b.push('a'); b.push('b'); b.push('c');
  assert.deepEqual(out, []);
  advance(5);
  assert.deepEqual(out, ['abc']);
});

test('the echo of a keystroke is sent at once', () => {
  const { timers, advance } = fakeTimers();
  const out: string[] = [];
  const b = new OutputBatcher((d) => out.push(d), opts, timers);
  advance(1000);
  b.inputSent();
  advance(2);
  b.push('x');
  assert.deepEqual(out, ['x']);
  b.push('more');
  assert.deepEqual(out, ['x'], 'later output is batched again');
  advance(5);
  assert.deepEqual(out, ['x', 'more']);
});

test('a full batch flushes without waiting', () => {
  const { timers } = fakeTimers();
  const out: string[] = [];
  const b = new OutputBatcher((d) => out.push(d), opts, timers);
  b.push('y'.repeat(600));
  b.push('y'.repeat(600));
  assert.equal(out.length, 1);
  assert.equal(out[0]!.length, 1200);
});
