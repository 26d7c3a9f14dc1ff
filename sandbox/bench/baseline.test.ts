import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatBaseline, relativeTo, type Baseline } from './baseline.ts';

const base: Baseline = { docker_run_ms: 500, loop_disk_ms: 200, cpu_loop_ms: 250, load1: 1.5 };

test('relativeTo gives each time figure in baselines, a rate multiplied by the baseline in seconds, and drops non-numbers', () => {
  assert.deepEqual(relativeTo(base, 'docker_run_ms', { ready_p50_ms: 1500, ready_p95_ms: 2250, images: ['a'] }), { ready_p50_ms: 3, ready_p95_ms: 4.5 });
  assert.deepEqual(relativeTo(base, 'cpu_loop_ms', { echo_p99_ms: 25, throughput_mb_s: 60 }, ['throughput_mb_s']), { echo_p99_ms: 0.1, throughput_mb_s: 15 });
  assert.deepEqual(relativeTo(base, 'loop_disk_ms', { x_ms: NaN }), { x_ms: null });
});

test('formatBaseline names every figure', () => {
  const s = formatBaseline(base);
  for (const v of ['500 ms', '200 ms', '250 ms', 'load 1.5']) assert.ok(s.includes(v), s);
});
