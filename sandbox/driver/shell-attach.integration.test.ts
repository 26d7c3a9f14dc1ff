// The terminal through the engine API against a real sandbox: the exec attach as the server uses it
// (spawnExecAttach over driver.attachShell). Everything is labelled with a test owner and removed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createDockerSandboxDriver } from './docker-driver.ts';
import type { SandboxRef } from './types.ts';
import { spawnExecAttach } from '../../server/terminals/exec-attach.ts';
import type { PtyProcess } from '../../server/terminals/terminal.ts';

const owner = `test-${randomBytes(3).toString('hex')}`;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-sh-'));
const log = (m: string, e?: unknown) => process.env.DEBUG && console.error(`[shell] ${m}`, e ?? '');
const driver = createDockerSandboxDriver({ dataDir, ownerId: owner, limits: { memoryMiB: 512, pids: 256, cpuShares: 512, diskGiB: 1 }, log });
let ref: SandboxRef;

/** An attach as the server makes it, with its output collected as a person reads the screen. */
function attach(cols = 100, rows = 30) {
  const p: PtyProcess = spawnExecAttach({ open: (c, r) => driver.attachShell(ref, c, r), log }, cols, rows);
  let out = '';
  const exits: number[] = [];
  p.onData((d) => (out += d));
  p.onExit((c) => exits.push(c));
  const plain = () => out.replace(/\x1b\][^\x07]*\x07/g, ''); // the prompt's OSC 133 marks
  const waitFor = async (re: RegExp, ms = 15_000) => {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (re.test(plain())) return plain();
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`never saw ${re}; got ${JSON.stringify(plain().slice(-400))}`);
  };
  return { p, exits, waitFor, clear: () => (out = '') };
}

async function attachClients(): Promise<number> {
  const r = await driver.exec(ref, ['bash', '-c', "pgrep -f '^lablab-attach-' | wc -l"]);
  return Number(r.stdout.trim());
}

before(async () => {
  const network = await driver.createSessionNetwork(`s-${owner}`);
  ref = await driver.create({ sessionId: `s-${owner}`, node: 1, images: [], network, limits: { memoryMiB: 512, pids: 256, cpuShares: 512, diskGiB: 1 }, expiresAt: Date.now() + 3_600_000 });
  await driver.waitReady(ref, { images: [] });
  await driver.ensureShellInSandbox(ref);
});

after(async () => {
  for (const r of await driver.list()) await driver.destroy(r).catch((e) => console.error('cleanup', e));
  await driver.removeSessionNetwork(`s-${owner}`).catch(() => {});
  await driver.reap({ now: Number.MAX_SAFE_INTEGER, isLive: () => false }).catch(() => {});
  await driver.dispose();
  spawnSync('rm', ['-rf', dataDir]);
});

describe('terminal through the engine API (real sandbox)', { concurrency: false }, () => {
  test('echo, stty size before and after a resize, the same shell on a second attach', async () => {
    const a = attach(100, 30);
    await a.waitFor(/\[node1\] \/root [$#] $/);
    a.p.write('export MARK=kept-$((40+2)); echo hi-$((6*7)); stty size\r');
    await a.waitFor(/hi-42\r\n30 100\r\n/);
    a.p.resize(120, 40);
    await new Promise((r) => setTimeout(r, 200));
    a.clear();
    a.p.write('stty size\r');
    await a.waitFor(/40 120\r\n/);
    a.p.kill();
    // kill ends our dtach client in the sandbox, not just the stream.
    for (let i = 0; i < 40 && (await attachClients()) > 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await attachClients(), 0);

    const b = attach(80, 24);
    await new Promise((r) => setTimeout(r, 300));
    b.p.write('echo "again-$MARK"\r');
    await b.waitFor(/again-kept-42/);
    b.p.kill();
  });

  test('Ctrl-C stops a foreground command and Ctrl-\\ quits one (neither signal is ignored in the world)', async () => {
    const a = attach();
    await a.waitFor(/\[node1\] \/root [$#] $/);
    a.clear();
    a.p.write('sleep 600; echo after-$((6*7))\r');
    await new Promise((r) => setTimeout(r, 500));
    a.p.write('\x03');
    // Ctrl-C ends the whole line (bash stops the list), and the prompt comes back well before 600 s.
    await a.waitFor(/\^C\r\n(\x1b\[\?2004h)?\[node1\] \/root [$#] /, 5_000);
    a.clear();
    a.p.write('sleep 600\r');
    await new Promise((r) => setTimeout(r, 500));
    a.p.write('\x1c');
    await a.waitFor(/Quit[\s\S]*\[node1\] \/root [$#] /, 5_000);
    a.p.kill();
  });

  test('UTF-8 from the shell arrives whole, also in a large burst', async () => {
    const a = attach();
    await new Promise((r) => setTimeout(r, 300));
    // 3000 × "é€🐳" is 27 000 bytes written at once by cat, so the pty's and the engine's chunks
    // cut characters apart (printed one printf at a time, each read would hold whole characters).
    a.p.write(`for i in $(seq 3000); do printf 'é€🐳'; done >/tmp/u8; cat /tmp/u8; echo; echo END-$((1+1))\r`);
    const out = await a.waitFor(/END-2/, 30_000);
    const bad = out.indexOf('\ufffd');
    assert.ok(bad < 0, `no replacement characters; the first one in ${JSON.stringify(out.slice(Math.max(0, bad - 60), bad + 60))}`);
    assert.ok(out.includes('é€🐳'.repeat(50)));
    a.p.kill();
  });

  test('the shell speaks UTF-8: a typed line of multibyte characters, wrapped at a narrow width, runs as typed', async () => {
    const a = attach(24, 30);
    await a.waitFor(/\[node1\] \/root [$#] $/);
    a.p.write('locale charmap\r');
    await a.waitFor(/\rUTF-8\r\n/);
    // In the C locale readline reads each byte of "🐳" as a Meta key (0xB3 is M-3, a digit argument).
    const word = 'é€🐳ü'.repeat(8);
    a.clear();
    a.p.write(`echo "<${word}>"\r`);
    const out = await a.waitFor(new RegExp(`\\r<${word}>\\r\\n`));
    const bad = out.indexOf('\ufffd');
    assert.ok(bad < 0, `no replacement characters; the first one in ${JSON.stringify(out.slice(Math.max(0, bad - 60), bad + 60))}`);
    a.p.kill();
  });

  test('`exit` ends the attach (onExit); ensureShellInSandbox starts a new shell that a new attach reaches', async () => {
    const a = attach();
    await new Promise((r) => setTimeout(r, 300));
    a.p.write('exit\r');
    for (let i = 0; i < 100 && a.exits.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(a.exits, [0]);
    const alive = await driver.exec(ref, ['bash', '-c', 'dtach -p /run/lab/term.sock </dev/null']);
    assert.notEqual(alive.exitCode, 0, 'the old master is gone');

    await driver.ensureShellInSandbox(ref);
    const b = attach();
    await b.waitFor(/\[node1\] \/root [$#] $/);
    b.p.write('echo "fresh-[$MARK]"\r');
    await b.waitFor(/fresh-\[\]/);
    b.p.kill();
  });

  test('an attach left behind by a server that died is ended by the next attach', async () => {
    // A dead server never calls kill: its stream just goes away, and the engine keeps the TTY exec.
    const orphan = await driver.attachShell(ref, 80, 24);
    orphan.onData(() => {});
    // Counts are polled (a busy machine starts an attach late), never slept on.
    const clientsBecome = async (n: number) => {
      let c = -1;
      for (let i = 0; i < 100 && (c = await attachClients()) !== n; i++) await new Promise((r) => setTimeout(r, 100));
      return c;
    };
    assert.equal(await clientsBecome(1), 1, 'the orphan attach is there');
    const next = attach();
    next.p.write('echo still-$((2*3))\r');
    await next.waitFor(/still-6/);
    // The next attach works and the orphan is gone: one client, not two.
    assert.equal(await clientsBecome(1), 1);
    next.p.kill();
    await orphan.close();
  });
});
