import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bucketsSince, countAbove, quantile, readBuckets, usageFromCpuStat } from './room-probes.ts';

const TEXT = `# HELP lablab_terminal_echo_seconds x
# TYPE lablab_terminal_echo_seconds histogram
lablab_terminal_echo_seconds_bucket{le="0.01"} 50
lablab_terminal_echo_seconds_bucket{le="0.05"} 90
lablab_terminal_echo_seconds_bucket{le="0.1"} 100
lablab_terminal_echo_seconds_bucket{le="+Inf"} 100
lablab_terminal_echo_seconds_sum 2
lablab_terminal_echo_seconds_count 100
`;

test('a histogram quantile is interpolated inside its bucket', () => {
  const b = readBuckets(TEXT, 'lablab_terminal_echo_seconds');
  assert.equal(b.length, 4);
  assert.equal(quantile(b, 0.5), 0.01);
  assert.ok(Math.abs(quantile(b, 0.7)! - 0.03) < 1e-9);
  assert.ok(Math.abs(quantile(b, 0.99)! - 0.095) < 1e-9);
  assert.equal(quantile(readBuckets('', 'lablab_terminal_echo_seconds'), 0.99), undefined);
});

test('observations above a bucket bound are counted, also between two reads', () => {
  const b = readBuckets(TEXT, 'lablab_terminal_echo_seconds');
  assert.deepEqual(countAbove(b, 0.05), { above: 10, total: 100 });
  const before = b.map((x) => ({ ...x, count: Math.floor(x.count / 2) }));
  assert.deepEqual(countAbove(bucketsSince(before, b), 0.05), { above: 5, total: 50 });
});

test('cgroup v2 cpu.stat gives seconds', () => {
  assert.equal(usageFromCpuStat('usage_usec 2500000\nuser_usec 1\nsystem_usec 2\n'), 2.5);
  assert.equal(usageFromCpuStat('nr_periods 0\n'), undefined);
});
