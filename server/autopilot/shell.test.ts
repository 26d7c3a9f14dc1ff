import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ShellSession, type Keyboard } from './shell.ts';

const PROMPT = '\x1b[?2004h[node1] /root $ ';

/** A pretend bash: echoes a paste, runs scripted replies (chunks with delays), prints a prompt, answers the status probe. */
function fakeBash(replies: Record<string, { chunks: [number, string][]; rc?: number }>) {
  let shell!: ShellSession;
  let lastRc = 0;
  const typed: string[] = [];
  const keyboard: Keyboard = {
    input(data) {
      typed.push(data);
      const paste = /^\x1b\[200~([\s\S]*)\x1b\[201~\r$/.exec(data);
      if (paste) {
        const code = paste[1]!;
        shell.push('\x1b[?2004l' + code.replace(/\r/g, '\r\n') + '\r\n');
        const r = replies[code] ?? { chunks: [] };
        let t = 0;
        for (const [delay, text] of r.chunks) {
          t += delay;
          setTimeout(() => shell.push(text), t).unref(); // a never-ending command must not keep the test process alive
        }
        setTimeout(() => {
          lastRc = r.rc ?? 0;
          shell.push(PROMPT);
        }, t + 5).unref();
      } else if (data.startsWith(' echo "AUTOPILOT_RC')) {
        setTimeout(() => shell.push(`echo "AUTOPILOT_RC=$?"\r\nAUTOPILOT_RC=${lastRc}\r\n${PROMPT}`), 2);
      } else if (data === '\x03') {
        setTimeout(() => shell.push(`^C\r\n${PROMPT}`), 2);
      }
    },
  };
  shell = new ShellSession(keyboard, { quietMs: 40 });
  return { shell, typed };
}

test('ready() waits for the first prompt', async () => {
  const { shell } = fakeBash({});
  setTimeout(() => shell.push('\r\n' + PROMPT), 10);
  await shell.ready(1_000);
});

test('ready() fails with what the shell printed when no prompt comes', async () => {
  const { shell } = fakeBash({});
  shell.push('dtach: cannot attach');
  await assert.rejects(shell.ready(100), /no prompt within .*cannot attach/);
});

test('a block is done only when the prompt is back and output stayed quiet; its output and exit status are kept', async () => {
  const { shell, typed } = fakeBash({
    'docker build .': { chunks: [[10, 'Step 1/2\r\n'], [60, 'Step 2/2\r\n'], [60, 'Successfully built\r\n']], rc: 0 },
    false: { chunks: [], rc: 1 },
  });
  shell.push(PROMPT);
  const r = await shell.run('docker build .', 2_000);
  assert.equal(r.timedOut, false);
  assert.equal(r.exitCode, 0);
  assert.equal(r.output, '[node1] /root $ docker build .\nStep 1/2\nStep 2/2\nSuccessfully built');
  assert.ok(r.ms >= 130 + 40, `${r.ms} ms covers the output and the quiet period`);
  assert.equal(typed[0], '\x1b[200~docker build .\x1b[201~\r');
  const f = await shell.run('false', 1_000);
  assert.equal(f.exitCode, 1);
});

test('a prompt-looking line in the middle of output does not end the block if output continues', async () => {
  const { shell } = fakeBash({ 'two': { chunks: [[5, 'one\r\n[node1] /root $ '], [20, 'two\r\n']] } });
  shell.push(PROMPT);
  const r = await shell.run('two', 1_000);
  assert.match(r.output, /two$/);
});

test('a block that runs past its time limit is interrupted with Ctrl-C and reported as timed out', async () => {
  const { shell, typed } = fakeBash({ 'sleep 100': { chunks: [[10_000, 'never']] } });
  shell.push(PROMPT);
  const r = await shell.run('sleep 100', 150);
  assert.equal(r.timedOut, true);
  assert.equal(r.exitCode, null);
  assert.ok(typed.includes('\x03'));
  // The shell is usable again afterwards.
  const next = await shell.run('true', 1_000);
  assert.equal(next.exitCode, 0);
});

test('a failed terminal ends the wait with its message', async () => {
  const { shell } = fakeBash({ hang: { chunks: [[10_000, '']] } });
  shell.push(PROMPT);
  setTimeout(() => shell.fail('terminal 1 failed: sandbox gone'), 20);
  await assert.rejects(shell.run('hang', 5_000), /sandbox gone/);
});
