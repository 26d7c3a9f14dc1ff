import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createBoundedRegex, RegexStopped } from './bounded-regex.ts';

const rx = createBoundedRegex({ timeoutMs: 300 });
after(() => rx.dispose());

test('matches like RegExp.exec', async () => {
  assert.deepEqual(await rx.exec('^welcome', 'm', 'hello\nwelcome'), { index: 6 });
  assert.equal(await rx.exec('x', '', 'abc'), null);
  await assert.rejects(rx.exec('(', '', 'abc'), SyntaxError);
});

test('a catastrophic pattern on a large output is stopped at the deadline, and the event loop stays free', async () => {
  const text = 'a'.repeat(1024 * 1024 - 1) + 'b'; // 1 MiB of learner output
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 10);
  const t0 = Date.now();
  try {
    await assert.rejects(rx.exec('^(a+)+$', '', text), RegexStopped);
  } finally {
    clearInterval(ticker);
  }
  const took = Date.now() - t0;
  assert.ok(took < 3_000, `stopped after ${took} ms`);
  assert.ok(ticks >= 10, `the event loop kept ticking (${ticks} ticks)`);
  // The next match gets a fresh worker.
  assert.deepEqual(await rx.exec('b$', '', text), { index: text.length - 1 });
});

test('jobs queue behind a slow one and still run', async () => {
  const slow = rx.exec('^(a+)+$', '', 'a'.repeat(40) + 'b');
  const fast = rx.exec('b', '', 'ab');
  await assert.rejects(slow, RegexStopped);
  assert.deepEqual(await fast, { index: 1 });
});

test('starting the worker is not the pattern\'s time: a trivial match on a fresh matcher passes while this thread is busy past the deadline', async () => {
  // A fresh matcher must start its worker thread; the main thread is then kept busy for twice the
  // deadline (a loaded or emulated machine starts threads slowly). The trivial pattern still matches.
  const fresh = createBoundedRegex({ timeoutMs: 300 });
  try {
    const p = fresh.exec('Welcome aboard', '', 'Welcome aboard!');
    const until = Date.now() + 600;
    while (Date.now() < until); // busy, on purpose
    assert.deepEqual(await p, { index: 0 });
  } finally {
    await fresh.dispose();
  }
});
