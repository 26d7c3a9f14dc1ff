// Issue 11 (state): two server replicas on one PostgreSQL database and one Redis, behind a sticky
// proxy. The learner's replica is killed; the proxy sends them to the other one, which adopts the
// session from the shared store and re-attaches to the same shell, with its scrollback (scrollback
// files live in the data dir the replicas share). The engines part of this test (two engines, a
// drained engine) is not here yet.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { launchBrowser, newLabPage, screenshot, startServerProc, tempDir, typeInTerminal, uniqueOwner, waitForTermText, ARTIFACTS, ROOT, type ServerProc } from './harness.ts';
import { cleanupOwner } from './cleanup.ts';
import { startStickyProxy, type StickyProxy } from './sticky-proxy.ts';
import { defaultDataDir } from '../server/config.ts';
import { createTestDatabase } from '../server/sessions/postgres.test-support.ts';
import { createDockerSandboxDriver } from '../sandbox/driver/index.ts';

const DATA = defaultDataDir(ROOT);
const owner = uniqueOwner('scale-out');
const labsDir = tempDir('scale-labs');
fs.writeFileSync(path.join(labsDir, 'shell.md'), '---\ntitle: A shell\nterms: 1\n---\n## Look around\n\n```.term1\nhostname\n```\n');

let browser: Browser;
let db: { url: string; drop(): Promise<void> };
let redis: ChildProcess;
let replicas: ServerProc[] = [];
let proxy: StickyProxy;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** A Redis of our own on loopback, no persistence; gone with the test. */
async function startRedis(): Promise<{ proc: ChildProcess; url: string }> {
  const port = await freePort();
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  for (let i = 0; i < 100 && !/Ready to accept connections/.test(out); i++) await new Promise((r) => setTimeout(r, 100));
  assert.match(out, /Ready to accept connections/, `redis-server did not start:\n${out}`);
  return { proc, url: `redis://127.0.0.1:${port}` };
}

async function sandboxesOf(): Promise<number> {
  const driver = createDockerSandboxDriver({ dataDir: DATA, ownerId: owner, log: () => {} });
  try {
    return (await driver.list()).length;
  } finally {
    await driver.dispose();
  }
}

before(async () => {
  db = await createTestDatabase('lablab_e2e');
  const r = await startRedis();
  redis = r.proc;
  const env = (id: string) => ({ DATABASE_URL: db.url, REDIS_URL: r.url, REPLICA_ID: id, PREPARE_TEMPLATES: '0' });
  replicas = [
    await startServerProc({ labsDir, dataDir: DATA, ownerId: owner, env: env('replica-0') }),
    await startServerProc({ labsDir, dataDir: DATA, ownerId: owner, env: env('replica-1') }),
  ];
  proxy = await startStickyProxy(replicas.map((s) => s.url));
  browser = await launchBrowser();
});

after(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  replicas.forEach((s, i) => fs.writeFileSync(path.join(ARTIFACTS, `scale-out-replica-${i}.log`), s.output()));
  await browser?.close();
  await proxy?.close();
  for (const s of replicas) if (s.proc.exitCode === null && s.proc.signalCode === null) await s.stop();
  await cleanupOwner(DATA, owner);
  redis?.kill('SIGTERM');
  await db?.drop();
});

test('killing the learner\'s replica moves them to the other one, with the same shell and scrollback', { timeout: 240_000 }, async () => {
  const page = await newLabPage(browser);
  await page.goto(`${proxy.url}/labs/shell`);
  await page.waitForSelector('[data-term-state="1"][data-state="ready"]', { timeout: 120_000 });
  await waitForTermText(page, 1, /\[node1\] \/root \$/);
  await typeInTerminal(page, 1, 'export LAB_MARK=moved-7373; echo "before-$LAB_MARK"\n');
  await waitForTermText(page, 1, /before-moved-7373/);

  const pin = (await page.context().cookies()).find((c) => c.name === 'lablab-replica');
  assert.ok(pin, 'the proxy pinned the learner to a replica');
  const mine = Number(pin.value);
  const other = 1 - mine;

  await replicas[mine]!.kill();
  await page.waitForSelector('#session-status[data-phase="reconnecting"]', { timeout: 20_000 });
  await page.waitForSelector('#session-status[data-phase="ready"]', { timeout: 60_000 });
  await waitForTermText(page, 1, /before-moved-7373/, 20_000); // the other replica replayed the scrollback
  await typeInTerminal(page, 1, 'echo "after-$LAB_MARK"\n');
  await waitForTermText(page, 1, /after-moved-7373/); // the variable survived: the same shell

  const now = (await page.context().cookies()).find((c) => c.name === 'lablab-replica');
  assert.equal(now?.value, String(other), 'the proxy moved the learner to the surviving replica');
  assert.match(replicas[other]!.output(), /re-attached to 1 sandbox/);
  assert.equal(await sandboxesOf(), 1, 'still the one sandbox: nothing was made again, nothing reaped');
  await screenshot(page, 'scale-out-after-failover');
  await page.context().close();
});
