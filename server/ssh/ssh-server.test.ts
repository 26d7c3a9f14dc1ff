// The ssh server on loopback (port 0) with fake sessions, driven by ssh2's client: a one-time token
// opens its own session's node once; another session's token, a used token and a key of another
// session are refused; the pty size is clamped; a 10 MB paste meets the owner's input rate and the
// server keeps serving; the session's end closes the login.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import ssh2, { type ClientChannel, type ConnectConfig } from 'ssh2';
import { createLearnerLimits } from '../http/learner-limits.ts';
import type { LearnerLimitsConfig } from '../config.ts';
import { TUNING } from '../config.ts';
import { AccessService } from '../access/access-service.ts';
import { openAccessStore, type AccessStore } from '../access/access-store.ts';
import { FakeSessions } from '../access/fakes.test-support.ts';
import { startSshServer, replayTail, type SshServer } from './ssh-server.ts';

const { Client, utils } = ssh2;

async function until<T>(what: string, fn: () => T | undefined | false, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('the ssh server', () => {
  const hostKey = utils.generateKeyPairSync('ed25519');
  const hostWire = (utils.parseKey(hostKey.public) as ssh2.ParsedKey).getPublicSSH();
  const sessions = new FakeSessions();
  const termsA = sessions.add('sessionA1', 'owner-a-1111');
  sessions.add('sessionB1', 'owner-b-2222');
  const termsC = sessions.add('sessionC1', 'owner-c-3333'); // its owner's input budget is the paste's
  const limitsConfig: LearnerLimitsConfig = { sessionsPerLearner: 2, sessionsPerAddress: 10, sessionCreatesPerMinute: 10, checkRunsPerMinute: 10, inputBytesPerSecond: 256 * 1024, uploadBytesPerMinute: 1 << 20, portRequestsPerMinute: 10 };
  const limits = createLearnerLimits({ config: limitsConfig, liveSessions: () => [] });
  const logs: string[] = [];
  let store: AccessStore;
  let access: AccessService;
  let server: SshServer;
  const clients: ssh2.Client[] = [];

  before(async () => {
    store = await openAccessStore(':memory:');
    access = new AccessService({ store, sessions, now: () => Date.now(), log: () => {} });
    server = await startSshServer({ hostKey: hostKey.private, access, sessions, limits, host: '127.0.0.1', port: 0, log: (m) => logs.push(m) });
  });
  after(async () => {
    for (const c of clients) c.end();
    await server.dispose();
    await limits.dispose();
    access.dispose();
    await store.close();
  });

  /** Resolves with the logged-in client, rejects with the refusal. */
  const login = (username: string, auth: Partial<ConnectConfig> & { keyboard?: string }) =>
    new Promise<ssh2.Client>((resolve, reject) => {
      const c = new Client();
      clients.push(c);
      c.on('ready', () => resolve(c));
      c.on('error', reject);
      if (auth.keyboard !== undefined) c.on('keyboard-interactive', (_n, _i, _l, _p, finish) => finish([auth.keyboard!]));
      c.connect({
        host: '127.0.0.1', port: server.port, username, readyTimeout: 60_000,
        hostVerifier: (key: Buffer) => key.equals(hostWire),
        tryKeyboard: auth.keyboard !== undefined, password: auth.password, privateKey: auth.privateKey,
      });
    });
  const shell = (c: ssh2.Client, window: { cols: number; rows: number }) =>
    new Promise<ClientChannel>((resolve, reject) => c.shell({ ...window, term: 'xterm' }, (err, s) => (err ? reject(err) : resolve(s))));

  test('a one-time token opens node1 of its own session, once; the pty size is clamped', async () => {
    const { token } = await access.newSshToken('owner-a-1111', 'sessionA1');
    const c = await login('node1.sessionA1', { keyboard: token });
    const s = await shell(c, { cols: 0, rows: 0 });
    let out = '';
    s.on('data', (d: Buffer) => (out += d.toString()));
    await until('the prompt replayed', () => out.includes('[node1] /root $'));
    assert.deepEqual(termsA.get(1)!.sizes.at(-1), [TUNING.minCols, TUNING.minRows], 'a 0x0 pty is clamped to the minimum');
    s.setWindow(100_000, 100_000, 0, 0);
    await until('the huge resize clamped', () => termsA.get(1)!.sizes.at(-1)?.[0] === TUNING.maxCols);
    assert.deepEqual(termsA.get(1)!.sizes.at(-1), [TUNING.maxCols, TUNING.maxRows]);
    s.write('docker ps\r');
    await until('the keystrokes in the shell', () => termsA.get(1)!.typed().includes('docker ps\r'));
    termsA.get(1)!.output('CONTAINER ID   IMAGE   COMMAND\r\n');
    await until('the output at the client', () => out.includes('CONTAINER ID'));
    assert.ok(termsA.get(1)!.acked >= 'CONTAINER ID   IMAGE   COMMAND\r\n'.length, 'output taken by the channel is acked (flow control)');
    c.end();
    await assert.rejects(login('node1.sessionA1', { password: token }), /authentication methods failed/, 'the used token is refused the second time');
  });

  test('a token made for another session is refused, and stays good for its own', async () => {
    const { token } = await access.newSshToken('owner-b-2222', 'sessionB1');
    await assert.rejects(login('node1.sessionA1', { password: token }), /authentication methods failed/);
    await assert.rejects(access.newSshToken('owner-b-2222', 'sessionA1'), /Only the owner/, 'nor can B make tokens for A');
    await login('node1.sessionB1', { password: token });
  });

  test('unknown users, nodes and made-up tokens are refused', async () => {
    await assert.rejects(login('root', { password: 'x'.repeat(43) }), /authentication methods failed/);
    await assert.rejects(login('node1.nosuchsession', { password: 'x'.repeat(43) }), /authentication methods failed/);
    await assert.rejects(login('node1.sessionA1', { password: 'x'.repeat(43) }), /authentication methods failed/);
    const { token } = await access.newSshToken('owner-a-1111', 'sessionA1');
    const c = await login('node2.sessionA1', { password: token });
    await assert.rejects(shell(c, { cols: 80, rows: 24 }), 'session A has no node2: the shell is refused');
  });

  test('a pasted public key opens its own session only', async () => {
    const mine = utils.generateKeyPairSync('ed25519', { comment: 'me@laptop' });
    const stranger = utils.generateKeyPairSync('ed25519');
    await assert.rejects(access.addSshKey('owner-a-1111', 'sessionA1', mine.private), /private key/);
    await access.addSshKey('owner-a-1111', 'sessionA1', mine.public);
    await login('node1.sessionA1', { privateKey: mine.private });
    await assert.rejects(login('node1.sessionB1', { privateKey: mine.private }), /authentication methods failed/, "A's key does not open B");
    await assert.rejects(login('node1.sessionA1', { privateKey: stranger.private }), /authentication methods failed/);
  });

  test('a 10 MB paste meets the owner\'s input rate; the server keeps serving', async () => {
    const { token } = await access.newSshToken('owner-c-3333', 'sessionC1');
    const c = await login('node1.sessionC1', { password: token });
    const s = await shell(c, { cols: 80, rows: 24 });
    let out = '';
    s.on('data', (d: Buffer) => (out += d.toString()));
    s.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const before = termsC.get(1)!.inputs.length;
    const paste = 'z'.repeat(10 * 1024 * 1024);
    s.write(paste);
    await until('the rate notice', () => out.includes('faster than this server accepts'), 60_000);
    const pieces = termsC.get(1)!.inputs.slice(before);
    const got = pieces.join('').length;
    assert.ok(pieces.every((p) => p.length <= TUNING.maxInputChunk), 'each piece is at most one input chunk');
    assert.ok(got > 0 && got < paste.length, `some of it passed, the rest was dropped (${got} of ${paste.length})`);
    // Still serving: a fresh login works and types.
    const { token: t2 } = await access.newSshToken('owner-b-2222', 'sessionB1');
    const c2 = await login('node1.sessionB1', { password: t2 });
    const s2 = await shell(c2, { cols: 80, rows: 24 });
    s2.write('echo ok\r');
    await until('the other session\'s input', () => sessions.terminal('sessionB1', 1)!.typed().includes('echo ok\r'));
  });

  test('a command (exec) runs in the node with its exit status; the session\'s end closes the login', async () => {
    const { token } = await access.newSshToken('owner-a-1111', 'sessionA1');
    const c = await login('node1.sessionA1', { password: token });
    const run = (cmd: string) => new Promise<{ out: string; code: number }>((resolve, reject) =>
      c.exec(cmd, (err, ch) => {
        if (err) return reject(err);
        let out = '';
        let code = -1;
        ch.on('data', (d: Buffer) => (out += d.toString()));
        ch.stderr.on('data', (d: Buffer) => (out += d.toString()));
        ch.on('exit', (n: number) => (code = n));
        ch.on('close', () => resolve({ out, code }));
      }),
    );
    assert.deepEqual(await run('docker ps'), { out: 'ran: docker ps\n', code: 0 });
    assert.equal((await run('false')).code, 1);
    assert.deepEqual(sessions.commands.filter(([sid]) => sid === 'sessionA1').map(([, node, cmd]) => [node, cmd]), [[1, 'docker ps'], [1, 'false']]);
    assert.match((await run('x'.repeat(20_000))).out, /at most/);
    const s = await shell(c, { cols: 80, rows: 24 });
    let out = '';
    let closed = false;
    s.on('data', (d: Buffer) => (out += d.toString()));
    s.on('close', () => (closed = true));
    await until('the prompt', () => out.includes('$'));
    sessions.end('sessionA1');
    await until('the login closed', () => closed);
    assert.match(out, /session you were in has ended/);
  });

  test('replayTail keeps the end of the scrollback from a line start', () => {
    assert.equal(replayTail('short'), 'short');
    assert.equal(replayTail(`${'a'.repeat(50)}\nprompt $ `, 20), 'prompt $ ');
  });
});
