// The session manager against a hand-written in-memory driver: admission, queue, expiry,
// progress that never goes backwards, and picking up after a restart (including mid-provision).
import { test, after, afterEach } from 'node:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import type { SandboxDriver, SandboxRef, SandboxSpec } from '../../sandbox/driver/types.ts';
import type { Lab } from '../labs/types.ts';
import type { CheckView, SessionView } from '../protocol/realtime.ts';
import { loadConfig, TUNING } from '../config.ts';
import { MissingImageError } from '../../sandbox/driver/image-sources.ts';
import { openStore, type Store } from './store.ts';
import { SessionManager, type CheckService } from './manager.ts';
import type { PtyProcess } from '../terminals/terminal.ts';
import type { AppError } from '../errors.ts';
import { systemTimers, type Timers } from '../timers.ts';
import { createFakeTimers } from '../fake-timers.test-support.ts';

class FakeDriver implements SandboxDriver {
  running = new Map<string, SandboxRef>();
  networks = new Set<string>();
  created = 0;
  failNext = false;
  hold: Promise<void> | null = null;
  async create(spec: SandboxSpec): Promise<SandboxRef> {
    if (this.hold) await this.hold;
    if (this.failNext) {
      this.failNext = false;
      throw new Error('engine said no');
    }
    const id = `sbx${++this.created}`;
    const ref: SandboxRef = { id, containerId: 'c' + id, name: id, sessionId: spec.sessionId, node: spec.node, socketDir: '/x', engineSocket: '/x/d', terminalSocket: '/x/t', workdir: '/root', expiresAt: spec.expiresAt };
    this.running.set(id, ref);
    return ref;
  }
  async waitReady() {}
  async exec() { return { exitCode: 0, stdout: '', stderr: '', timedOut: false }; }
  async ensureShell() {}
  engine(): never { throw new Error('not used'); }
  connectPort(): never { throw new Error('not used'); }
  async status(ref: SandboxRef) { return this.running.has(ref.id) ? { running: true } : null; }
  async list() { return [...this.running.values()]; }
  async destroy(ref: SandboxRef) { this.running.delete(ref.id); }
  async reap(opts: { now: number; isLive: (s: string) => boolean }) {
    const out: string[] = [];
    for (const r of this.running.values()) if (!opts.isLive(r.sessionId)) { this.running.delete(r.id); out.push(r.id); }
    return out;
  }
  async createSessionNetwork(s: string) { this.networks.add(s); return 'net-' + s; }
  async removeSessionNetwork(s: string) { this.networks.delete(s); }
  async dispose() {}
}

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-manager-test-'));
after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

const pty = (): PtyProcess => ({ onData() {}, onExit() {}, write() {}, resize() {}, pause() {}, resume() {}, kill() {} });

function lab(id: string, terms = 1): Lab {
  return {
    id, file: `/labs/${id}.md`, title: id, description: '', tags: [], images: ['golang:1.19', 'scratch'], terms, meta: {}, html: '', problems: [],
    steps: [{ id: 's1', index: 0, title: 'Build', line: 1, blocks: [], checks: [{ id: 's1.c1', line: 2, kind: 'image.exists', image: 'x', exists: true }] }],
  };
}

// Managers hold timers: dispose every one after each test, so a failed assertion fails fast instead of hanging.
const managers: SessionManager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.dispose()));
});

async function setup(env: Record<string, string> = {}, opts: { store?: Store; driver?: FakeDriver; checkResults?: CheckView[]; timers?: Timers; lease?: { held(): boolean }; replicaId?: string } = {}) {
  const config = { ...loadConfig([], env, '/tmp'), dataDir };
  const store = opts.store ?? (await openStore(':memory:'));
  const driver = opts.driver ?? new FakeDriver();
  const broken: Lab = { ...lab('broken'), title: 'Broken lab', problems: [{ file: '/labs/broken.md', line: 3, message: 'terms must be 0..6' }] };
  const labs = new Map([['one', lab('one')], ['two', lab('two', 2)], ['broken', broken]]);
  const checks: CheckService & { pokes: number } = {
    pokes: 0,
    start: () => ({ runStep: async () => opts.checkResults ?? [], stepStarted() {}, setup: async () => ({ ok: true }), poke() { checks.pokes++; }, dispose() {} }),
  };
  const m = new SessionManager({ config, store, driver, lab: (id) => labs.get(id), checks, spawnPty: pty, timers: opts.timers ?? systemTimers, log: () => {}, lease: opts.lease, replicaId: opts.replicaId });
  managers.push(m);
  return { m, store, driver, checks };
}

const until = async (pred: () => boolean) => {
  for (let i = 0; i < 200 && !pred(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(pred(), 'condition not reached');
};

test('a learner gets a sandbox, and the same session when joining again', async () => {
  const { m, driver } = await setup();
  const v = await m.join('alice', 'one');
  await until(() => m.view(v.id).phase === 'ready');
  assert.equal((await m.join('alice', 'one')).id, v.id);
  assert.equal(driver.running.size, 1);
  assert.deepEqual([...driver.running.values()][0]!.sessionId, v.id);
  await m.dispose();
});

test('scratch is never asked of the driver: it is no image', async () => {
  const { m, driver } = await setup();
  let seen: string[] = [];
  const orig = driver.create.bind(driver);
  driver.create = async (spec) => { seen = spec.images; return orig(spec); };
  const v = await m.join('alice', 'one');
  await until(() => m.view(v.id).phase === 'ready');
  assert.deepEqual(seen, ['golang:1.19']);
  await m.dispose();
});

test('past capacity learners queue in order, and move up when a session ends', async () => {
  const { m } = await setup({ MAX_SANDBOXES: '1' });
  const a = await m.join('a', 'one');
  const b = await m.join('b', 'one');
  const c = await m.join('c', 'one');
  await until(() => m.view(a.id).phase === 'ready');
  assert.equal(m.view(b.id).queuePosition, 1);
  assert.equal(m.view(c.id).queuePosition, 2);
  const updates: SessionView[] = [];
  m.subscribe(b.id, { update: (v) => updates.push(v), checks() {} });
  m.end(a.id);
  await until(() => m.view(b.id).phase === 'ready');
  assert.equal(m.view(c.id).queuePosition, 1);
  assert.ok(updates.some((u) => u.phase === 'ready'), 'the queued learner was told');
  await m.dispose();
});

test('a queued session nobody watches for QUEUE_ABANDON leaves the queue; a watched one keeps its place and gets the slot', async () => {
  const timers = createFakeTimers(0);
  const { m, store } = await setup({ MAX_SANDBOXES: '1', QUEUE_ABANDON: '2m' }, { timers });
  await m.restore(); // starts the queue tick
  const a = await m.join('a', 'one');
  await until(() => m.view(a.id).phase === 'ready');
  const gone = await m.join('gone', 'one'); // opened the page, then closed the tab before the socket came
  const left = await m.join('left', 'one'); // watched for a while, then closed the tab
  const stays = await m.join('stays', 'one');
  const offLeft = m.subscribe(left.id, { update() {}, checks() {} });
  m.subscribe(stays.id, { update() {}, checks() {} });
  timers.advance(TUNING.queueTickMs);
  timers.advance(60_000);
  offLeft();
  assert.equal(m.view(gone.id).phase, 'queued', 'not yet: a minute unwatched');
  timers.advance(60_000);
  await until(() => m.view(gone.id).phase === 'ended');
  assert.match(m.view(gone.id).message ?? '', /You left the queue/);
  assert.equal(m.view(left.id).phase, 'queued', 'one minute since its socket went');
  assert.equal(m.view(stays.id).queuePosition, 2);
  timers.advance(60_000);
  await until(() => m.view(left.id).phase === 'ended');
  assert.equal(m.view(stays.id).queuePosition, 1);
  timers.advance(10 * 60_000);
  assert.equal(m.view(stays.id).phase, 'queued', 'a watched session never leaves');
  m.end(a.id);
  await until(() => m.view(stays.id).phase === 'ready');
  await m.flush();
  assert.equal((await store.session(gone.id))?.phase, 'ended', 'stored as ended');
  await m.dispose();
});

test('joins with caps: two labs opened at once by a learner with a cap of one: one session, one clear refusal', async () => {
  const { m, store } = await setup();
  const caps = { address: '10.1.1.1', perLearner: 1, perAddress: 10 };
  const results = await Promise.allSettled([m.join('ada', 'one', caps), m.join('ada', 'two', caps)]);
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
  assert.match((refused.reason as AppError).message, /You already have 1 labs open/);
  assert.equal((await store.liveSessions()).length, 1);
  await m.dispose();
});

test('a failed start ends in a clear message and frees the slot', async () => {
  const { m, driver } = await setup({ MAX_SANDBOXES: '1' });
  driver.failNext = true;
  const a = await m.join('a', 'one');
  await until(() => m.view(a.id).phase === 'failed');
  assert.match(m.view(a.id).message ?? '', /Reload the page/);
  const b = await m.join('b', 'one');
  await until(() => m.view(b.id).phase === 'ready');
  await m.dispose();
});

test('expiry fires at exactly expiresAt on the injected clock, destroys the sandboxes and the network, and tells the learner', async () => {
  const timers = createFakeTimers(Date.parse('2026-01-01T10:00:00Z'));
  const { m, driver } = await setup({ SESSION_TTL: '1h' }, { timers });
  const v = await m.join('a', 'two');
  const seen: SessionView[] = [];
  m.subscribe(v.id, { update: (u) => seen.push(u), checks() {} });
  await until(() => m.view(v.id).phase === 'ready');
  assert.equal(driver.running.size, 2);
  timers.advance(v.expiresAt - timers.now() - 1);
  assert.equal(m.view(v.id).phase, 'ready', 'one millisecond before expiresAt it still runs');
  timers.advance(1);
  assert.equal(m.view(v.id).phase, 'expired', 'at expiresAt it ends, with no waiting');
  assert.equal(seen.at(-1)!.phase, 'expired');
  assert.match(seen.at(-1)!.message ?? '', /time limit/);
  await until(() => driver.running.size === 0 && driver.networks.size === 0);
  await m.dispose();
});

test('an extended session does not end at its old expiry', async () => {
  const timers = createFakeTimers(0);
  const { m } = await setup({ SESSION_TTL: '1h', SESSION_EXTEND: '30m' }, { timers });
  const v = await m.join('a', 'one');
  m.extend(v.id);
  timers.advance(3_600_000);
  assert.notEqual(m.view(v.id).phase, 'expired', 'the old expiry passed; the session lives on');
  timers.advance(30 * 60_000);
  assert.equal(m.view(v.id).phase, 'expired');
  await m.dispose();
});

test('the reaper runs every reapIntervalMs on the injected clock', async () => {
  const timers = createFakeTimers(0);
  const { m, driver } = await setup({}, { timers });
  await m.restore(); // reaps once now
  const v = await m.join('a', 'one');
  await until(() => m.view(v.id).phase === 'ready');
  driver.running.set('orphan', { ...[...driver.running.values()][0]!, id: 'orphan', sessionId: 'no-such-session' });
  timers.advance(TUNING.reapIntervalMs - 1);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(driver.running.has('orphan'), true, 'not before the interval');
  timers.advance(1);
  await until(() => !driver.running.has('orphan'));
  assert.equal(m.view(v.id).phase, 'ready', "the learner's sandbox is spared");
  await m.dispose();
});

test('extending adds exactly the extension, and never past the maximum', async () => {
  const start = Date.parse('2026-01-01T10:00:00Z');
  const timers = createFakeTimers(start);
  const { m } = await setup({ SESSION_TTL: '1h', SESSION_EXTEND: '30m', SESSION_MAX: '2h' }, { timers });
  const v = await m.join('a', 'one');
  assert.equal(v.expiresAt, start + 3_600_000, 'a session lasts SESSION_TTL');
  timers.advance(10 * 60_000);
  const e1 = m.extend(v.id);
  assert.equal(e1.expiresAt, v.expiresAt + 30 * 60_000, 'one click adds SESSION_EXTEND');
  assert.equal(e1.canExtend, true);
  const e2 = m.extend(v.id);
  assert.equal(e2.expiresAt, start + 2 * 3_600_000, 'the second click reaches SESSION_MAX exactly');
  assert.equal(e2.canExtend, false);
  assert.equal(m.extend(v.id).expiresAt, e2.expiresAt, 'past the maximum nothing is added');
  await m.dispose();
});

test('a pass stays a pass even when a later run says fail', async () => {
  const pass: CheckView = { id: 's1.c1', stepId: 's1', status: 'pass', message: 'ok' };
  const fail: CheckView = { id: 's1.c1', stepId: 's1', status: 'fail', message: 'gone' };
  const store = await openStore(':memory:');
  const first = await setup({}, { store, checkResults: [pass] });
  const v = await first.m.join('a', 'one');
  await until(() => first.m.view(v.id).phase === 'ready');
  await first.m.runStep(v.id, 's1');
  await first.m.dispose();
  const second = await setup({}, { store, driver: first.driver, checkResults: [fail] });
  await second.m.restore();
  const out = await second.m.runStep(v.id, 's1');
  assert.equal(out[0]!.status, 'pass');
  assert.equal((await store.progress('a', 'one'))[0]!.status, 'pass');
  await second.m.dispose();
});

test('after a restart: running sandboxes are re-attached, a provision cut short is redone, orphans reaped', async () => {
  const store = await openStore(':memory:');
  const driver = new FakeDriver();
  const first = await setup({}, { store, driver });
  const ready = await first.m.join('a', 'one');
  await until(() => first.m.view(ready.id).phase === 'ready');
  let release!: () => void;
  driver.hold = new Promise((r) => (release = r));
  const cut = await first.m.join('b', 'one'); // stuck in create: the server "dies" here
  await until(() => first.m.view(cut.id).phase === 'starting');
  driver.hold = null;
  const stopping = first.m.dispose();
  release();
  await stopping;
  assert.equal((await store.session(cut.id))?.phase, 'starting', 'the database still says starting, as after a kill');
  driver.running.set('orphan', { ...[...driver.running.values()][0]!, id: 'orphan', sessionId: 'no-such-session' });

  const second = await setup({}, { store, driver });
  await second.m.restore();
  assert.equal(second.m.view(ready.id).phase, 'ready');
  assert.equal(second.checks.pokes, 1, 'checks re-evaluated for work done while the server was down');
  assert.ok(second.m.terminal(ready.id, 1), 'terminal re-attached');
  await until(() => second.m.view(cut.id).phase === 'ready');
  assert.equal(driver.running.has('orphan'), false);
  const bySession = [...driver.running.values()].map((r) => r.sessionId).sort();
  assert.deepEqual(bySession, [ready.id, cut.id].sort());
  await second.m.dispose();
});

test('unknown and broken labs are refused with a sentence', async () => {
  const { m, store } = await setup();
  await assert.rejects(() => m.join('a', 'nope'), (e: AppError) => e.code === 'not_found' && /no lab called "nope"/.test(e.message));
  await assert.rejects(() => m.join('a', 'broken'), (e: AppError) => e.code === 'lab_broken' && /^The lab "Broken lab" has errors and cannot run yet\./.test(e.message));
  assert.equal(await store.liveSessionFor('a', 'broken'), undefined, 'no session was opened for the broken lab');
});

test('while a lab image is fetched or its template built, the starting page says so', async () => {
  const { m, driver } = await setup();
  const orig = driver.create.bind(driver);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  driver.create = async (spec) => {
    spec.onProgress?.('Fetching image redis:7 for this lab (once for everyone): Downloading 40%');
    await gate;
    return orig(spec);
  };
  const v = await m.join('alice', 'one');
  await until(() => /Fetching image redis:7/.test(m.view(v.id).message ?? ''));
  assert.equal(m.view(v.id).phase, 'starting');
  release();
  await until(() => m.view(v.id).phase === 'ready');
  assert.equal(m.view(v.id).message, undefined);
  await m.dispose();
});

test('a lab image found nowhere: the learner gets a short message, the log the author one', async () => {
  const { m, driver } = await setup();
  driver.create = async () => { throw new MissingImageError('nginx:1.25', 'image "nginx:1.25" is not on this host. Provide it one of three ways: …'); };
  const v = await m.join('alice', 'one');
  await until(() => m.view(v.id).phase === 'failed');
  assert.match(m.view(v.id).message ?? '', /^This lab needs the image nginx:1.25, which this server does not have yet/);
  assert.doesNotMatch(m.view(v.id).message ?? '', /three ways/);
  await m.dispose();
});

test('replicas: another replica adopts a session whose replica died, with its running sandbox', async () => {
  const store = await openStore(':memory:');
  const driver = new FakeDriver();
  const first = await setup({}, { store, driver, lease: { held: () => true } });
  const v = await first.m.join('a', 'one');
  await until(() => first.m.view(v.id).phase === 'ready');
  await first.m.dispose(); // the replica dies; its sandbox keeps running

  const second = await setup({}, { store, driver, lease: { held: () => false } });
  await second.m.restore();
  assert.equal(second.m.liveSessions().length, 0, 'with replicas nothing is adopted until its learner comes back');
  const again = await second.m.join('a', 'one');
  assert.equal(again.id, v.id, 'the same session');
  assert.equal(again.phase, 'ready');
  assert.ok(second.m.terminal(v.id, 1), 'terminal re-attached');
  assert.equal(driver.running.size, 1, 'no new sandbox');
  await second.m.dispose();
});

test('replicas: only the lease holder reaps, and it spares sandboxes other replicas serve', async () => {
  const store = await openStore(':memory:');
  const driver = new FakeDriver();
  const a = await setup({}, { store, driver, lease: { held: () => false } });
  const v = await a.m.join('a', 'one');
  await until(() => a.m.view(v.id).phase === 'ready');
  await a.m.flush();
  driver.running.set('orphan', { ...[...driver.running.values()][0]!, id: 'orphan', sessionId: 'no-such-session' });
  await a.m.reap();
  assert.equal(driver.running.has('orphan'), true, 'not the holder: no reaping');
  const b = await setup({}, { store, driver, lease: { held: () => true } });
  await b.m.restore(); // reaps once
  assert.equal(driver.running.has('orphan'), false, 'the holder reaped the orphan');
  assert.equal([...driver.running.values()].filter((r) => r.sessionId === v.id).length, 1, "and kept the other replica's sandbox");
});

test('lose() ends the sessions of a lost engine with its message, and frees their slots', async () => {
  const { m } = await setup({ MAX_SANDBOXES: '1' });
  const a = await m.join('a', 'one');
  const b = await m.join('b', 'one');
  await until(() => m.view(a.id).phase === 'ready');
  m.lose([a.id], 'The machine your sandbox ran on is gone; start the lab again to get a new one.');
  assert.equal(m.view(a.id).phase, 'failed');
  assert.match(m.view(a.id).message ?? '', /machine your sandbox ran on is gone/);
  await until(() => m.view(b.id).phase === 'ready');
  m.lose(['someone-else'], 'x');
  assert.equal(m.view(b.id).phase, 'ready');
  await m.dispose();
});

test('replicas: admission counts every replica\'s sandboxes from the shared store, and the line is the same on each', async () => {
  // One store instance stands for the shared database (store.test.ts proves PostgreSQL behaves the same).
  const store = await openStore(':memory:');
  const driver = new FakeDriver();
  const timers = createFakeTimers(Date.parse('2026-01-01T10:00:00Z'));
  const lease = { held: () => true };
  const r1 = await setup({ MAX_SANDBOXES: '1' }, { store, driver, timers, lease, replicaId: 'r1' });
  const r2 = await setup({ MAX_SANDBOXES: '1' }, { store, driver, timers, lease: { held: () => false }, replicaId: 'r2' });
  await r1.m.restore();
  await r2.m.restore();
  const a = await r1.m.join('a', 'one');
  await until(() => r1.m.view(a.id).phase === 'ready');
  timers.advance(1);
  const b = await r2.m.join('b', 'one');
  assert.equal(r2.m.view(b.id).phase, 'queued', "r1's learner holds the only sandbox");
  assert.equal(r2.m.view(b.id).queuePosition, 1);
  timers.advance(TUNING.queueTickMs);
  await r2.m.flush();
  assert.equal(r2.m.view(b.id).phase, 'queued', 'still queued at the next queue tick');
  assert.equal(driver.running.size, 1, 'never two sandboxes at once');
  timers.advance(1);
  const c = await r1.m.join('c', 'one');
  assert.equal(r1.m.view(c.id).queuePosition, 2, "r2's learner came first, whichever replica asks");
  r1.m.end(a.id);
  await r1.m.flush();
  timers.advance(TUNING.queueTickMs);
  await until(() => r2.m.view(b.id).phase === 'ready');
  assert.equal(r1.m.view(c.id).phase, 'queued', 'the next in line waits for b');
  // r1 reads the other replicas' sessions at its next queue tick: places in line follow within one tick.
  timers.advance(TUNING.queueTickMs);
  await until(() => r1.m.view(c.id).queuePosition === 1);
  assert.equal(r1.m.capacity().inUse, 1, "the warm pool (run by the lease holder) leaves room for r2's learner");
  assert.equal(driver.running.size, 1);
});

test('a stop right after a session ended waits for its teardown: sandbox and network gone before dispose resolves', async () => {
  const driver = new FakeDriver();
  const { m } = await setup({}, { driver });
  const v = await m.join('alice', 'one');
  await until(() => m.view(v.id).phase === 'ready');
  let letGo!: () => void;
  const held = new Promise<void>((r) => (letGo = r));
  const destroy = driver.destroy.bind(driver);
  driver.destroy = async (ref) => { await held; return destroy(ref); };
  m.end(v.id);
  let disposed = false;
  const stopping = m.dispose().then(() => (disposed = true));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(disposed, false, 'dispose waits for the ended session\'s teardown');
  letGo();
  await stopping;
  assert.equal(driver.running.size, 0, 'its sandbox is destroyed');
  assert.equal(driver.networks.size, 0, 'its network is removed');
});
