// Hostile and broken input at the websocket, against the real server and a real sandbox: every
// case ends in a clear message or a clean refusal, and the server keeps serving everyone else.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { io, type Socket } from 'socket.io-client';
import type { ClientToServer, ServerToClient } from '../server/protocol/realtime.ts';
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
async function learner(): Promise<{ s: S; waitFor: (re: RegExp, ms?: number) => Promise<void>; notices: string[]; screen: () => string }> {
  const s = connect({ cookie: await cookie(), origin: server.url });
  let screen = '';
  const notices: string[] = [];
  s.on('term:replay', ({ data }) => (screen = data));
  s.on('term:data', ({ data }) => {
    screen = (screen + data).slice(-20_000);
    s.emit('term:ack', { term: 1, chars: data.length });
  });
  s.on('notice', (n) => notices.push(n.message));
  // What a person reads: without the shell's OSC marks (prompt and output starts) that the page uses.
  const plain = () => screen.replace(/\x1b\][^\x07]*\x07/g, '');
  const waitFor = async (re: RegExp, ms = 20_000) => {
    const end = Date.now() + ms;
    while (!re.test(plain())) {
      if (Date.now() > end) throw new Error(`never saw ${re}; screen ends with ${JSON.stringify(screen.slice(-300))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const ready = new Promise<void>((r) => s.on('term:state', ({ state }) => state === 'ready' && r()));
  const res = await new Promise<Parameters<Parameters<ClientToServer['session:join']>[1]>[0]>((r) => s.emit('session:join', { labId: 'shell' }, r));
  assert.equal(res.ok, true, JSON.stringify(res));
  await ready;
  await waitFor(/\$ $/, 30_000);
  return { s, waitFor, notices, screen: plain };
}

before(async () => {
  server = await startServerProc({ labsDir, dataDir: DATA, ownerId: owner, env: { DB_FILE: path.join(tempDir('hostile-db'), 'db.sqlite') } });
});

after(async () => {
  for (const s of sockets) s.close();
  await server?.stop();
  await cleanupOwner(DATA, owner);
});

test('a websocket without the learner cookie, or from another origin, is refused; the same cookie from the page\'s origin connects', async () => {
  const noCookie = connect({ origin: server.url });
  const err1 = await new Promise<Error>((r) => noCookie.on('connect_error', r));
  assert.match(err1.message, /^Open the lab page first: this connection has no learner cookie\.$/);

  const learnerCookie = await cookie();
  // The upgrade itself is refused (engine.io answers a refused websocket upgrade with 400).
  const otherOrigin = connect({ cookie: learnerCookie, origin: 'http://evil.example' });
  const err2 = await new Promise<Error & { description?: unknown }>((resolve, reject) => {
    otherOrigin.on('connect_error', resolve);
    otherOrigin.on('connect', () => reject(new Error('a page on http://evil.example opened a learner websocket')));
  });
  assert.match(`${err2.message} ${String((err2.description as Error | undefined)?.message ?? err2.description)}`, /^websocket error Unexpected server response: 400$/, `refusal: ${err2.message}`);
  // The same handshake over plain HTTP says why, and says it only to the other origin.
  const handshake = (origin: string) => fetch(`${server.url}/socket.io/?EIO=4&transport=polling`, { headers: { origin, cookie: learnerCookie } });
  const refused = await handshake('http://evil.example');
  assert.equal(refused.status, 403);
  assert.deepEqual(await refused.json(), { code: 4, message: 'origin not allowed' });
  assert.equal((await handshake(server.url)).status, 200);

  const sameOrigin = connect({ cookie: learnerCookie, origin: server.url });
  await new Promise<void>((resolve, reject) => {
    sameOrigin.on('connect', () => resolve());
    sameOrigin.on('connect_error', reject);
  });
  assert.equal(sameOrigin.connected, true);
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
  assert.equal((await ask('checks:run', { stepId: 42 })).error?.code, 'bad_request');
  const res = await fetch(server.url + '/healthz');
  assert.equal(res.status, 200);
});

test('junk terminal events on a joined session are dropped by the validators; the terminal keeps working', { timeout: 120_000 }, async () => {
  const { s, waitFor, notices, screen } = await learner();
  s.emit('term:resize', { term: 1, cols: 100, rows: 30 });
  s.emit('term:input', { term: 1, data: 'stty size\r' });
  await waitFor(/\r30 100\r\n/);
  const ran = 'echo junk-$((6*7))\r'; // would print junk-42 if it reached the shell
  const emit = s.emit.bind(s) as (ev: string, payload: unknown) => void;
  // Bytes as an array of numbers would reach the shell as that command if the type check let them by.
  for (const junk of [null, 42, 'x', { term: 1, data: [...Buffer.from(ran)] }, { term: 1, data: [ran] }, { term: 1, data: { length: 1, toString: ran } }, { term: '1', data: ran }, { term: 1.5, data: ran }, { term: 7, data: ran }, { term: 0, data: ran }]) {
    emit('term:input', junk);
  }
  for (const junk of [null, 'x', { term: 1, cols: 'wide', rows: 'tall' }, { term: 1, cols: null, rows: 40 }, { term: 1, cols: [120], rows: { n: 40 } }, { term: '1', cols: 120, rows: 40 }, { term: 9, cols: 120, rows: 40 }]) {
    emit('term:resize', junk);
  }
  // A huge negative ack would count as output never sent and pause the terminal for good; a NaN
  // arrives as null through JSON.
  for (const junk of [null, { term: 1, chars: -1e12 }, { term: 1, chars: 'lots' }, { term: 1, chars: null }, { term: 1 }, { term: 'one', chars: 5 }]) {
    emit('term:ack', junk);
  }
  const output = server.output().length;
  s.emit('term:input', { term: 1, data: 'echo size-$(stty size | tr " " x) alive-$((40+2))\r' });
  await waitFor(/alive-42/);
  const after = screen();
  assert.match(after, /size-30x100 alive-42/, 'the size is still what the valid resize set');
  assert.doesNotMatch(after, /junk-42/, 'no junk input reached the shell');
  assert.deepEqual(notices, [], 'dropped quietly: no notice for junk');
  assert.equal(s.connected, true, 'the connection stays up');
  assert.doesNotMatch(server.output().slice(output), /Error|exception/i, 'the server logged no error');
  assert.equal((await fetch(server.url + '/healthz')).status, 200);
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
