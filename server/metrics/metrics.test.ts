import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMetrics, eventLoopDelayMs, EVENT_LOOP_SAMPLE_MS } from './metrics.ts';

const sources = {
  sandboxes: () => ({ starting: 0, ready: 0, pool_idle: 0, pool_filling: 0 }),
  pool: () => ({ idle: 0, target: 0 }),
  queueLength: () => 0,
  eventLearners: async () => [],
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const lagMs = (text: string, name: string) =>
  Number(new RegExp(`^lablab_process_nodejs_eventloop_lag_${name}_seconds (\\S+)$`, 'm').exec(text)?.[1]) * 1000;

test('event-loop lag readings include the sample interval; eventLoopDelayMs takes it off', async () => {
  const metrics = createMetrics(sources);
  await metrics.text(); // the first scrape resets the histogram
  await sleep(300);
  const idle = await metrics.text();
  // An idle loop never reads below the interval it samples at: the reading is not the delay.
  assert.ok(lagMs(idle, 'min') >= EVENT_LOOP_SAMPLE_MS * 0.8, `idle min ${lagMs(idle, 'min')} ms`);
  // Node drops the first sample after a reset (each scrape resets), so let one pass before blocking.
  await sleep(3 * EVENT_LOOP_SAMPLE_MS);
  const t = Date.now();
  while (Date.now() - t < 120); // block the loop for 120 ms
  await sleep(50);
  const blocked = await metrics.text();
  const delay = eventLoopDelayMs(lagMs(blocked, 'max'));
  assert.ok(delay >= 100 && delay < lagMs(blocked, 'max'), `a 120 ms block reads as ${delay} ms of delay`);
});

test('eventLoopDelayMs never goes below zero', () => {
  assert.equal(eventLoopDelayMs(10.2), 10.2 - EVENT_LOOP_SAMPLE_MS);
  assert.equal(eventLoopDelayMs(3), 0);
  assert.equal(eventLoopDelayMs(25, 1), 24);
});
