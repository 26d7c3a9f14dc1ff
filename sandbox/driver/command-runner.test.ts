import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { commandRunnerPid, HELPER_NICE, runCommand } from './command-runner.ts';

test('runs a command in the helper process, not this one, and gives back its output and status', async () => {
  const r = await runCommand('sh', ['-c', 'echo "out $PPID"; echo err >&2; exit 3']);
  assert.equal(r.code, 3);
  assert.equal(r.stderr, 'err\n');
  const parent = Number(/^out (\d+)$/m.exec(r.stdout)?.[1]);
  assert.equal(parent, commandRunnerPid(), 'started by the helper');
  assert.notEqual(parent, process.pid);
});

test('input goes to stdin; many commands run at once', async () => {
  const big = 'x'.repeat(300_000) + '\n';
  const rs = await Promise.all([...Array(8)].map((_, i) => runCommand('sh', ['-c', `wc -c; echo ${i}`], { input: big })));
  rs.forEach((r, i) => assert.equal(r.stdout, `300001\n${i}\n`));
});

test('a missing command, a timeout and an overflow each say so', async () => {
  const missing = await runCommand('no-such-command-lablab', []);
  assert.equal(missing.code, null);
  assert.match(missing.error ?? '', /ENOENT/);
  const slow = await runCommand('sleep', ['5'], { timeoutMs: 200 });
  assert.equal(slow.timedOut, true);
  assert.equal(slow.signal, 'SIGTERM');
  const loud = await runCommand('head', ['-c', '100000', '/dev/zero'], { maxBuffer: 1000 });
  assert.match(loud.error ?? '', /maxBuffer/);
});

test('a helper that dies fails what it was running, and the next command gets a new helper', async () => {
  const first = commandRunnerPid() ?? (await runCommand('true', []), commandRunnerPid())!;
  const running = runCommand('sleep', ['10']);
  process.kill(first, 'SIGKILL');
  await assert.rejects(running, /command runner exited/);
  const r = await runCommand('sh', ['-c', 'echo $PPID']);
  assert.equal(r.code, 0);
  assert.notEqual(Number(r.stdout.trim()), first);
  assert.equal(Number(r.stdout.trim()), commandRunnerPid());
});

test('what the helper runs is niced behind this process (its own cgroup share goes to the server first)', async () => {
  // Field 19 of /proc/<pid>/stat is the nice value.
  const r = await runCommand('sh', ['-c', 'cut -d" " -f19 /proc/self/stat']);
  assert.equal(Number(r.stdout.trim()), HELPER_NICE);
  assert.equal(os.getPriority(process.pid), 0, 'this process keeps its own');
});
