// The /access namespace on a real socket.io server (loopback, port 0) with fake sessions: the owner
// makes links, a read-write guest types into the owner's shell, a read-only guest's input is refused
// by the server (sent by hand here, as a doctored page would), revoking cuts a guest off at once,
// and a session's end sends everyone away and forgets its links.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { io as connect, type Socket } from 'socket.io-client';
import { COOKIE_NAME, signId } from '../http/learner-cookie.ts';
import { createLearnerLimits } from '../http/learner-limits.ts';
import type { LearnerLimitsConfig } from '../config.ts';
import { AccessService } from './access-service.ts';
import { attachAccessNamespace } from './access-socket.ts';
import { openAccessStore, type AccessStore } from './access-store.ts';
import { FakeSessions } from './fakes.test-support.ts';

const SECRET = 'x'.repeat(32);
const OWNER = 'owner-aaaaaaaa';
const OTHER = 'other-bbbbbbbb';

async function until<T>(what: string, fn: () => T | undefined | false, ms = 5_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('the /access namespace', () => {
  let httpServer: http.Server;
  let url: string;
  let store: AccessStore;
  const sessions = new FakeSessions();
  let service: AccessService;
  const sockets: Socket[] = [];
  const limitsConfig: LearnerLimitsConfig = { sessionsPerLearner: 2, sessionsPerAddress: 10, sessionCreatesPerMinute: 10, checkRunsPerMinute: 10, inputBytesPerSecond: 1024, uploadBytesPerMinute: 1 << 20, portRequestsPerMinute: 10 };
  const limits = createLearnerLimits({ config: limitsConfig, liveSessions: () => [] });

  before(async () => {
    store = await openAccessStore(':memory:');
    service = new AccessService({ store, sessions, now: () => Date.now(), log: () => {} });
    httpServer = http.createServer();
    const io = new Server(httpServer);
    attachAccessNamespace(io, { access: service, sessions, secret: SECRET, limits, sshPort: () => undefined, log: () => {} });
    await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}/access`;
  });
  after(async () => {
    for (const s of sockets) s.disconnect();
    await limits.dispose();
    await new Promise((r) => httpServer.close(r));
    service.dispose();
    await store.close();
  });

  const owner = (learner = OWNER) => {
    const s = connect(url, { transports: ['websocket'], extraHeaders: { cookie: `${COOKIE_NAME}=${encodeURIComponent(signId(learner, SECRET))}` }, reconnection: false });
    sockets.push(s);
    return s;
  };
  const guest = (token: string) => {
    const s = connect(url, { transports: ['websocket'], auth: { share: token }, reconnection: false });
    sockets.push(s);
    return s;
  };
  const ask = <T>(s: Socket, event: string, req: unknown) =>
    new Promise<T>((resolve, reject) => s.emit(event, req, (res: { ok: boolean; value: T; error?: { message: string } }) => (res.ok ? resolve(res.value) : reject(new Error(res.error!.message)))));
  const tokenOf = (path: string) => path.replace('/share/', '');

  test('read-write guest types into the owner\'s shell and is listed; read-only input is refused server-side', async () => {
    const terms = sessions.add('S1', OWNER);
    const o = owner();
    const states: { visitors: { mode: string }[] }[] = [];
    o.on('access:state', (st) => states.push(st));
    await ask(o, 'access:open', { sessionId: 'S1' });
    await assert.rejects(ask(owner(OTHER), 'share:create', { sessionId: 'S1', mode: 'read-write' }), /Only the owner/);
    await assert.rejects(ask(o, 'share:create', { sessionId: 'S1', mode: 'admin' }), /read-only or read-write/);

    const rw = await ask<{ path: string }>(o, 'share:create', { sessionId: 'S1', mode: 'read-write' });
    const ro = await ask<{ path: string }>(o, 'share:create', { sessionId: 'S1', mode: 'read-only' });
    assert.match(tokenOf(rw.path), /^[A-Za-z0-9_-]{43}$/);

    const g = guest(tokenOf(rw.path));
    const seen: string[] = [];
    g.on('term:replay', (t) => seen.push(t.data));
    g.on('term:data', (t) => seen.push(t.data));
    const joined = await ask<{ mode: string; nodes: number[] }>(g, 'guest:join', {});
    assert.deepEqual(joined, { title: 'Lab of owner-aaaaaaaa', mode: 'read-write', nodes: [1] });
    await until('the replay', () => seen.join('').includes('[node1] /root $'));
    g.emit('term:input', { term: 1, data: 'docker ps\r' });
    await until('the guest\'s keystrokes in the shell', () => terms.get(1)!.typed() === 'docker ps\r');
    terms.get(1)!.output('CONTAINER ID   IMAGE');
    await until('the output at the guest', () => seen.join('').includes('CONTAINER ID'));
    await until('the owner told who is in', () => states.at(-1)?.visitors.some((v) => v.mode === 'read-write'));

    const r = guest(tokenOf(ro.path));
    const notices: string[] = [];
    r.on('notice', (n) => notices.push(n.message));
    assert.equal((await ask<{ mode: string }>(r, 'guest:join', {})).mode, 'read-only');
    r.emit('term:input', { term: 1, data: 'rm -rf /root\r' });
    await until('the read-only refusal', () => notices.some((m) => /read-only/.test(m)));
    g.emit('term:input', { term: 1, data: 'x' }); // an input after it, so the order proves the refused one never arrived
    await until('the later keystroke', () => terms.get(1)!.typed().endsWith('x'));
    assert.equal(terms.get(1)!.typed(), 'docker ps\rx', 'the read-only guest\'s input never reached the shell');
  });

  test('a guest\'s input counts against the owner\'s input rate', async () => {
    const terms = sessions.add('S3', 'owner-rate-cccc');
    const o = owner('owner-rate-cccc');
    const { path } = await ask<{ path: string }>(o, 'share:create', { sessionId: 'S3', mode: 'read-write' });
    const g = guest(tokenOf(path));
    const notices: string[] = [];
    g.on('notice', (n) => notices.push(n.message));
    await ask(g, 'guest:join', {});
    // The limit is 1 KiB/s over a 10 s window: 12 KiB of input goes past it.
    for (let i = 0; i < 12; i++) g.emit('term:input', { term: 1, data: 'y'.repeat(1024) });
    await until('the rate refusal', () => notices.some((m) => /faster than this server accepts/.test(m)));
    assert.ok(terms.get(1)!.typed().length < 12 * 1024, 'some of it was dropped');
    assert.ok(!(await limits.input('owner-rate-cccc', 1)), 'the owner\'s own budget is the one used up');
  });

  test('revoking cuts the guest off at once and the link stops opening', async () => {
    const terms = sessions.add('S2', OWNER);
    const o = owner();
    const { link, path } = await ask<{ link: { id: string }; path: string }>(o, 'share:create', { sessionId: 'S2', mode: 'read-write' });
    const g = guest(tokenOf(path));
    const ended: string[] = [];
    g.on('guest:ended', (e) => ended.push(e.message));
    let gone = false;
    g.on('disconnect', () => (gone = true));
    await ask(g, 'guest:join', {});
    await until('the guest attached', () => terms.get(1)!.viewers.size === 1);
    await ask(o, 'share:revoke', { sessionId: 'S2', id: link.id });
    await until('the guest disconnected', () => gone);
    assert.match(ended[0] ?? '', /revoked/);
    assert.equal(terms.get(1)!.viewers.size, 0, 'its viewer is gone from the terminal');
    const again = guest(tokenOf(path));
    const refused = await new Promise<string>((resolve) => again.on('connect_error', (e) => resolve(e.message)));
    assert.match(refused, /does not work/);
  });

  test('a guest never holds up the owner\'s terminal: one that does not ack is sent away', async () => {
    const terms = sessions.add('S5', OWNER);
    const o = owner();
    const { path } = await ask<{ path: string }>(o, 'share:create', { sessionId: 'S5', mode: 'read-only' });
    const g = guest(tokenOf(path)); // this page renders nothing and never acks
    const ended: string[] = [];
    g.on('guest:ended', (e) => ended.push(e.message));
    await ask(g, 'guest:join', {});
    await until('the guest attached', () => terms.get(1)!.viewers.size === 1);
    const chunk = 'o'.repeat(100_000);
    for (let i = 0; i < 9 && !ended.length; i++) {
      terms.get(1)!.output(chunk);
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.ok(terms.get(1)!.acked >= 800_000, 'the guest\'s share of flow control was acked as the output went out');
    await until('the slow guest sent away', () => ended.length > 0);
    assert.match(ended[0]!, /could not keep up/);
    assert.equal(terms.get(1)!.viewers.size, 0);
  });

  test('the session\'s end sends guests away and forgets its links', async () => {
    sessions.add('S4', OWNER);
    const o = owner();
    const { path } = await ask<{ path: string }>(o, 'share:create', { sessionId: 'S4', mode: 'read-only' });
    const g = guest(tokenOf(path));
    const ended: string[] = [];
    g.on('guest:ended', (e) => ended.push(e.message));
    await ask(g, 'guest:join', {});
    sessions.end('S4');
    await until('the guest told', () => ended.length > 0);
    assert.match(ended[0]!, /ended/);
    const end = Date.now() + 5_000;
    while ((await store.shares('S4')).length && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(await store.shares('S4'), [], 'its links are gone from the store');
  });
});
