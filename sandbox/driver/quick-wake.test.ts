import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { quickWake, readSlice } from './quick-wake.ts';

test('a process gets the short slice (read back from /proc), and what it starts afterwards does not', async (t) => {
  // Waits for a line, then starts a child and prints its pid.
  const proc = spawn('sh', ['-c', 'read go; sleep 30 & echo $!; wait'], { stdio: ['pipe', 'pipe', 'ignore'] });
  t.after(() => proc.kill('SIGKILL'));
  const before = readSlice(proc.pid!);
  if (before === undefined) return t.skip('this kernel does not show slices in /proc/<pid>/sched');
  const line = await quickWake(proc.pid!);
  const after = readSlice(proc.pid!)!;
  if (/default slices/.test(line)) {
    assert.equal(after, before, 'nothing changed where the line says so');
    return t.skip(`no custom slices here: ${line}`);
  }
  assert.ok(after <= 200_000 && after < before, `slice ${after} ns (default ${before})`);
  assert.match(line, /0\.1 ms slice/);
  const childPid = new Promise<number>((r) => proc.stdout!.once('data', (d) => r(Number(String(d).trim()))));
  proc.stdin!.write('go\n');
  const child = await childPid;
  t.after(() => process.kill(child, 'SIGKILL'));
  assert.equal(readSlice(child), before, 'its child has the default slice again (reset-on-fork)');
});

test('a pid that is gone gives the default-slices line, not a claim', async () => {
  assert.match(await quickWake(2 ** 22 + 7), /default slices/);
});
