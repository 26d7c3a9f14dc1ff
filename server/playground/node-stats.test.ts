import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerSample, parseDf } from './node-stats.ts';

test('CPU percent as docker stats computes it, memory without the inactive page cache', () => {
  const s = containerSample({
    cpu_stats: { cpu_usage: { total_usage: 3_000_000_000 }, system_cpu_usage: 20_000_000_000, online_cpus: 2 },
    precpu_stats: { cpu_usage: { total_usage: 2_000_000_000 }, system_cpu_usage: 18_000_000_000 },
    memory_stats: { usage: 100 << 20, limit: 2048 << 20, stats: { total_inactive_file: 40 << 20 } },
  });
  assert.equal(s.cpuPercent, 100); // 1 s of CPU in 2 s of two CPUs' time: one CPU busy
  assert.equal(s.memoryBytes, 60 << 20);
  assert.equal(s.memoryLimitBytes, 2048 << 20);
});

test('an empty answer (a container gone meanwhile) reads as zeros', () => {
  assert.deepEqual(containerSample({}), { cpuPercent: 0, memoryBytes: 0, memoryLimitBytes: 0 });
});

test('df -P -B1: total and used of the sandbox disk', () => {
  const out = 'Filesystem         1-blocks      Used  Available Capacity Mounted on\n/dev/loop7       8350298112 123456789 7800000000       2% /var/lib/docker\n';
  assert.deepEqual(parseDf(out), { total: 8350298112, used: 123456789 });
  assert.equal(parseDf('df: /var/lib/docker: No such file or directory'), undefined);
});
