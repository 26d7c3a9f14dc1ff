// The local transport's dtach client against a real dtach master (Debian's dtach, as in the
// sandbox) holding a real bash, started on this host by the test.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TUNING } from '../config.ts';
import { attachDtachSocket, PACKET_BYTES, pushPackets, PUSH_MAX } from './dtach-socket.ts';
import type { PtyProcess } from './terminal.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dtach-socket-'));
const masters: number[] = [];

/** Starts a dtach master with bash in it, the way the sandbox starts the learner's shell; returns its socket. */
function startMaster(name: string): string {
  const sock = path.join(dir, `${name}.sock`);
  execFileSync('dtach', ['-n', sock, '-E', '-z', 'bash', '--norc', '--noprofile', '-i'], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TERM: 'xterm-256color', LANG: 'C.UTF-8', HOME: dir, PS1: 'P> ' },
  });
  return sock;
}

interface Client {
  p: PtyProcess;
  /** Every onData call, in order. */
  chunks: string[];
  text(): string;
  exits: number[];
  /** Resolves when the output (since `from`) matches. */
  until(re: RegExp, from?: number): Promise<string>;
  exited(): Promise<number>;
  /** Resolves at the first onData call (the attach is through). */
  first(): Promise<unknown>;
}

function attach(sock: string, cols = 100, rows = 30): Client {
  const p = attachDtachSocket(sock, cols, rows);
  const chunks: string[] = [];
  const exits: number[] = [];
  let wake = () => {};
  p.onData((d) => {
    chunks.push(d);
    wake();
  });
  p.onExit((c) => {
    exits.push(c);
    wake();
  });
  const text = () => chunks.join('');
  const wait = async <T>(get: () => T | undefined, what: string): Promise<T> => {
    // Generous: the machine is shared; nothing here asserts on time.
    const deadline = setTimeout(() => wake(), 30_000);
    try {
      for (;;) {
        const v = get();
        if (v !== undefined) return v;
        if (exits.length && !what.startsWith('exit')) throw new Error(`exited waiting for ${what}; output: ${JSON.stringify(text().slice(-400))}`);
        const woke = await new Promise<boolean>((r) => {
          const t = setTimeout(() => r(false), 30_000);
          wake = () => (clearTimeout(t), r(true));
        });
        if (!woke) throw new Error(`timed out waiting for ${what}; output: ${JSON.stringify(text().slice(-400))}`);
      }
    } finally {
      clearTimeout(deadline);
    }
  };
  return {
    p,
    chunks,
    exits,
    text,
    until: (re, from = 0) => wait(() => (re.test(text().slice(from)) ? text().slice(from) : undefined), String(re)),
    exited: () => wait(() => exits[0], 'exit'),
    first: () => wait(() => (chunks.length ? true : undefined), 'the first output'),
  };
}

/** Runs a command line and waits for `marker` (computed by the shell, so the echoed line cannot match). */
async function run(c: Client, line: string, marker: RegExp): Promise<string> {
  const from = c.text().length;
  c.p.write(line + '\r');
  return c.until(marker, from);
}

before(async () => {
  // The masters are ours: remember their pids (the shell's parent) to end them afterwards.
  for (const name of ['a', 'b']) {
    const c = attach(startMaster(name));
    const out = await run(c, 'echo "PP=$PPID."', /PP=(\d+)\./);
    masters.push(Number(/PP=(\d+)\./.exec(out)![1]));
    c.p.kill();
  }
});

after(() => {
  for (const pid of masters) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone (a test ended its shell)
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

test('packets: 8 bytes of input at most each, zero padded, the length in the second byte', () => {
  const p = pushPackets(Buffer.from('0123456789abcdefXYZ'));
  assert.equal(p.length, 3 * PACKET_BYTES);
  assert.deepEqual([...p.subarray(0, 2)], [0, PUSH_MAX]);
  assert.equal(p.subarray(2, 10).toString(), '01234567');
  assert.equal(p.subarray(12, 20).toString(), '89abcdef');
  assert.deepEqual([...p.subarray(20, 30)], [0, 3, ...Buffer.from('XYZ'), 0, 0, 0, 0, 0]);
  assert.equal(pushPackets(Buffer.alloc(0)).length, 0);
});

test('attach says it is through even when the shell prints nothing; typed input is echoed and run', async () => {
  const c = attach(path.join(dir, 'a.sock'));
  await c.first(); // '' at the least
  await run(c, 'echo "sum=$((6*7))"', /sum=42/);
  c.p.kill();
});

test('a character split across reads arrives whole', async () => {
  const c = attach(path.join(dir, 'a.sock'));
  await c.first();
  // The shell prints the first two bytes of € and waits for a line (not echoed) before the third,
  // so the master cannot send the character in one piece.
  const from = c.text().length;
  c.p.write(`printf 'X%s\\xe2\\x82' $((1+1)); read -rs _; printf '\\xacY%s\\n' $((3+4))\r`);
  await c.until(/X2/, from);
  c.p.write('\r');
  const out = await c.until(/Y7/, from);
  assert.match(out, /X2€Y7/);
  assert.ok(!out.includes('\ufffd'), 'no replacement character');
  c.p.kill();
});

test('a 1 MB paste in one write reaches the shell whole', async () => {
  const c = attach(path.join(dir, 'a.sock'));
  await run(c, 'stty -echo; echo "R$((2+3))"; wc -c; stty echo', /R5/);
  const line = 'x'.repeat(127) + '\n';
  const from = c.text().length;
  c.p.write(line.repeat(8192)); // 1 048 576 bytes, lines short enough for the tty's line buffer
  c.p.write('\x04'); // end of input for wc
  const out = await c.until(/\d+\s/, from);
  assert.equal(/(\d+)\s/.exec(out)![1], '1048576');
  c.p.kill();
});

test('resize: the shell sees the new size; 0x0 and huge sizes are clamped', async () => {
  const c = attach(path.join(dir, 'a.sock'), 90, 33);
  assert.match(await run(c, 'echo "S=$(stty size)."', /S=[\d ]+\./), /S=33 90\./, 'the attach sets the size');
  c.p.resize(77, 19);
  assert.match(await run(c, 'echo "S=$(stty size)."', /S=[\d ]+\./), /S=19 77\./);
  c.p.resize(0, 0);
  assert.match(await run(c, 'echo "S=$(stty size)."', /S=[\d ]+\./), new RegExp(`S=${TUNING.minRows} ${TUNING.minCols}\\.`));
  c.p.resize(1e9, Number.NaN);
  assert.match(await run(c, 'echo "S=$(stty size)."', /S=[\d ]+\./), new RegExp(`S=${TUNING.minRows} ${TUNING.maxCols}\\.`));
  c.p.kill();
});

test('pause holds all output back until resume', async () => {
  const c = attach(path.join(dir, 'a.sock'));
  await run(c, 'echo "go=$((1+2))"', /go=3/);
  c.p.pause();
  const from = c.text().length;
  const flag = path.join(dir, 'paused-done');
  c.p.write(`echo "held=$((4+5))"; touch ${flag}\r`);
  // The shell has run the line (and printed) once the file is there; give the output time to come.
  while (!fs.existsSync(flag)) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(c.text().slice(from), '', 'nothing while paused');
  c.p.resume();
  await c.until(/held=9/, from);
  c.p.kill();
});

test('a missing socket, or a file that is not one: a short message, then a non-zero exit', async () => {
  const missing = attach(path.join(dir, 'nothing-here.sock'));
  assert.notEqual(await missing.exited(), 0);
  assert.match(missing.text(), /could not attach to the shell: no such socket/);
  const file = path.join(dir, 'plain-file');
  fs.writeFileSync(file, '');
  const notSock = attach(file);
  assert.notEqual(await notSock.exited(), 0);
  assert.match(notSock.text(), /could not attach to the shell: \S/);
  // Writing, resizing and killing an attach that failed are harmless.
  notSock.p.write('ls\r');
  notSock.p.resize(80, 24);
  notSock.p.kill();
});

test('kill detaches: the master and its shell keep running, and the next attach finds the same shell', async () => {
  const a = attach(path.join(dir, 'b.sock'));
  await run(a, 'KEPT=k$((20+3)); echo "set=$((1+1))"', /set=2/);
  a.p.kill();
  a.p.kill(); // twice is harmless
  a.p.write('echo never\r'); // so is writing after it
  const b = attach(path.join(dir, 'b.sock'));
  await run(b, 'echo "kept=$KEPT."', /kept=k23\./);
  assert.deepEqual(a.exits, [], 'a killed attach does not report an exit');
  assert.ok(!b.text().includes('never'), 'nothing written after kill reached the shell');
  // The shell ends: its master goes with it, and the attach ends with a non-zero code.
  b.p.write('exit\r');
  assert.notEqual(await b.exited(), 0);
});
