// The baseline against the real engine and the real disk.sh: every figure is measured (positive),
// and the loop disk leaves nothing mounted behind.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { measureBaseline } from './baseline.ts';

test('measureBaseline runs a container, makes a loop disk and a CPU loop, and cleans up', async () => {
  const before = execFileSync('findmnt', ['-rn', '-o', 'TARGET'], { encoding: 'utf8' }).split('\n').filter((m) => m.includes('lablab-baseline-')).length;
  const b = await measureBaseline(1);
  for (const k of ['docker_run_ms', 'loop_disk_ms', 'cpu_loop_ms'] as const) assert.ok(b[k] > 0, `${k} = ${b[k]}`);
  const after = execFileSync('findmnt', ['-rn', '-o', 'TARGET'], { encoding: 'utf8' }).split('\n').filter((m) => m.includes('lablab-baseline-')).length;
  assert.equal(after, before, 'the baseline disk is unmounted');
  const left = execFileSync('docker', ['ps', '-aq', '--filter', 'label=io.lablab.baseline=1'], { encoding: 'utf8' }).trim();
  assert.equal(left, '', 'the baseline container is removed');
});
