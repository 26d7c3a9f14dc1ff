// Hostile and broken input at the websocket, against the real server and a real sandbox: every
// case ends in a clear message or a clean refusal, and the server keeps serving everyone else.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { io, type Socket } from 'socket.io-client';
import type { ClientToServer, ServerToClient } from '../server/realtime/protocol.ts';
import { startServerProc, tempDir, uniqueOwner, ROOT, type ServerProc } from './harness.ts';
import { cleanupOwner } from './cleanup.ts';
import { defaultDataDir } from '../server/config.ts';

type S = Socket<ServerToClient, ClientToServer>;
const DATA = defaultDataDir(ROOT);
const owner = uniqueOwner('hostile');
const labsDir = tempDir('hostile-labs');
fs.writeFileSync(path.join(labsDir, 'shell.md'), '---\ntitle: A shell\n---\n## Look\n\n```.term1\nhostname\n```\n');
fs.writeFileSync(path.join(labsDir, 'broken.md'), '---\ntitle: [unclosed\nterms: 9\n---\n## Step\n');
let server: ServerProc;
const sockets: S[] = [];

async function cookie(): Promise<string> {
  const res = await fetch(server.url + '/');
  return (res.headers.get('set-cookie') ?? '').split(';')[0]!;
}

function connect(headers: Record<string, string>): S {
  const s: S = io(server.url, { transports: ['websocket'], extraHeaders: headers, reconnection: false, forceNew: true });
  sockets.push(s);
  return s;
}

/** A learner with a ready terminal; returns a function that waits for text on screen. */
async function learner(): Promise<{ s: S; waitFor: (re: RegExp, ms?: number) => Promise<void>; notices: string[] }> {
  const s = connect({ cookie: await cookie(), origin: server.url });
  let screen = '';
  const notices: string[] = [];
  s.on('term:replay', ({ data }) => (screen = data));
  s.on('term:data', ({ data }) => {
    screen = (screen + data).slice(-20_000);
    s.emit('term:ack', { term: 1, chars: data.length });
  });
  s.on('notice', (n) => notices.push(n.message));
  const waitFor = async (re: RegExp, ms = 20_000) => {
    const end = Date.now() + ms;
    while (!re.test(screen)) {
      if (Date.now() > end) throw new Error(`never saw ${re}; screen ends with ${JSON.stringify(screen.slice(-300))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const ready = new Promise<void>((r) => s.on('term:state', ({ state }) => state === 'ready' && r()));
  const res = await new Promise<Parameters<Parameters<ClientToServer['session:join']>[1]>[0]>((r) => s.emit('session:join', { labId: 'shell' }, r));
  assert.equal(res.ok, true, JSON.stringify(res));
  await ready;
  await waitFor(/\$ $/, 30_000);
  return { s, waitFor, notices };
}

before(async () => {
  server = await startServerProc({ labsDir, dataDir: DATA, ownerId: owner, env: { DB_FILE: path.join(tempDir('hostile-db'), 'db.sqlite') } });
});

after(async () => {
  for (const s of sockets) s.close();
  await server?.stop();
  await cleanupOwner(DATA, owner);
});

test('a websocket without the learner cookie, or from another origin, is refused', async () => {
  const noCookie = connect({ origin: server.url });
  const err1 = await new Promise<Error>((r) => noCookie.on('connect_error', r));
  assert.match(err1.message, /learner cookie/);
  const otherOrigin = connect({ cookie: await cookie(), origin: 'http://evil.example' });
  await new Promise<Error>((r) => otherOrigin.on('connect_error', r));
  assert.equal(otherOrigin.connected, false);
});

test('malformed requests get an error answer, not a crash', async () => {
  const s = connect({ cookie: await cookie(), origin: server.url });
  await new Promise<void>((r) => s.on('connect', () => r()));
  const ask = (ev: 'session:join' | 'checks:run', payload: unknown) =>
    new Promise<{ ok: boolean; error?: { code: string; message: string } }>((r) => (s.emit as (...a: unknown[]) => void)(ev, payload, r));
  assert.equal((await ask('session:join', { labId: { $ne: 1 } })).error?.code, 'bad_request');
  assert.equal((await ask('session:join', null)).error?.code, 'bad_request');
  assert.match((await ask('session:join', { labId: 'no-such-lab' })).error?.message ?? '', /no lab called/);
  assert.equal((await ask('session:join', { labId: 'broken' })).error?.code, 'lab_broken');
  assert.equal((await ask('checks:run', { stepId: 's1' })).error?.code, 'session_expired');
  // Events with no answer expected, full of junk: ignored.
  for (const junk of [null, 42, 'x', { term: 'one', data: 5 }, { term: 99, data: 'ls\r' }, { term: 1, cols: -1, rows: 'a' }]) {
    s.emit('term:input', junk as never);
    s.emit('term:resize', junk as never);
    s.emit('term:ack', junk as never);
  }
  const res = await fetch(server.url + '/healthz');
  assert.equal(res.status, 200);
});

test('a 0x0 resize is clamped and the terminal keeps working', { timeout: 120_000 }, async () => {
  const { s, waitFor } = await learner();
  s.emit('term:resize', { term: 1, cols: 0, rows: 0 });
  s.emit('term:input', { term: 1, data: 'stty size\r' });
  await waitFor(/\r3 10\r\n/);
  s.emit('term:resize', { term: 1, cols: 120, rows: 40 });
  s.emit('term:input', { term: 1, data: 'stty size\r' });
  await waitFor(/\r40 120\r\n/);
});

test('an oversized input is refused with a message; a 10 MB frame drops only that connection', { timeout: 120_000 }, async () => {
  const a = await learner();
  const b = await learner();
  a.s.emit('term:input', { term: 1, data: 'x'.repeat(70_000) });
  const end = Date.now() + 5000;
  while (!a.notices.length && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  assert.match(a.notices[0] ?? '', /too large/);

  const closed = new Promise<void>((r) => a.s.on('disconnect', () => r()));
  a.s.emit('term:input', { term: 1, data: 'y'.repeat(10 * 1024 * 1024) });
  await closed;
  // Everyone else is unaffected.
  b.s.emit('term:input', { term: 1, data: 'echo still-$((40+2))\r' });
  await b.waitFor(/still-42/);
});

test('a fork bomb in a learner shell leaves the server serving', { timeout: 120_000 }, async () => {
  const a = await learner();
  a.s.emit('term:input', { term: 1, data: "bomb() { bomb | bomb & }; bomb\r" });
  await new Promise((r) => setTimeout(r, 3000));
  const t = Date.now();
  const res = await fetch(server.url + '/');
  assert.equal(res.status, 200);
  assert.ok(Date.now() - t < 5000);
  const b = await learner();
  b.s.emit('term:input', { term: 1, data: 'echo fine-$((1+1))\r' });
  await b.waitFor(/fine-2/);
});
