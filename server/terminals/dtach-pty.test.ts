// TERMINAL_TRANSPORT=pty: the host's dtach client under node-pty, against a real dtach master holding
// bash (started on this host by the test, as the sandbox starts the learner's shell).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnDtachAttach } from './dtach-pty.ts';
import type { PtyProcess } from './terminal.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dtach-pty-'));
const sock = path.join(dir, 'term.sock');
execFileSync('dtach', ['-n', sock, '-E', '-z', 'bash', '--norc', '--noprofile', '-i'], {
  cwd: dir,
  env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TERM: 'xterm-256color', LANG: 'C.UTF-8', HOME: dir, PS1: 'P> ' },
});
after(() => {
  try {
    execFileSync('pkill', ['-f', `dtach -n ${sock}`]);
  } catch {
    // already gone
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

function attach(cols: number, rows: number): { p: PtyProcess; until(re: RegExp): Promise<string> } {
  const p = spawnDtachAttach(sock, cols, rows);
  let out = '';
  let wake = () => {};
  p.onData((d) => {
    out += d;
    wake();
  });
  return {
    p,
    async until(re) {
      const end = Date.now() + 30_000;
      while (!re.test(out)) {
        if (Date.now() > end) throw new Error(`never ${re}; output: ${JSON.stringify(out.slice(-300))}`);
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 200);
        });
      }
      return out;
    },
  };
}

test('types into the shell, passes the window size, and a detach leaves the shell for the next attach', async () => {
  const a = attach(100, 30);
  a.p.write('echo "sum $((20+22))"; stty size\r');
  await a.until(/sum 42/);
  await a.until(/30 100/);
  a.p.resize(120, 40);
  a.p.write('x=kept; stty size\r');
  await a.until(/40 120/);
  a.p.kill();
  const b = attach(80, 24);
  b.p.write('echo "still $x"\r');
  await b.until(/still kept/);
  b.p.kill();
});

test('a socket with no master behind it exits non-zero with dtach\'s own message', async () => {
  const p = spawnDtachAttach(path.join(dir, 'none.sock'), 80, 24);
  let out = '';
  p.onData((d) => (out += d));
  const code = await new Promise<number>((r) => p.onExit(r));
  assert.notEqual(code, 0);
  assert.match(out, /dtach/);
});
