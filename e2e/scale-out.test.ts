// Issue 11, end to end: two server replicas on one PostgreSQL database and one Redis, behind
// Debian's HAProxy with cookie-based stickiness (the README's config), placing sessions on two Docker engines (the host's and a second dockerd this test
// starts, listed in ENGINES_FILE). In one learner's story:
//   1. with the host engine drained, the learner lands on engine 2 (its sandbox image shipped there
//      first), clicks a block and sees its checks pass;
//   2. their replica is killed: HAProxy sends them to the other one, which adopts the session from
//      the shared store and re-attaches to the same shell on engine 2, scrollback replayed; a port
//      link through that replica reaches a service in the sandbox on engine 2;
//   3. engine 2 is drained in the file: the next learner lands on the host engine (sessions on both
//      engines, none new on the drained one);
//   4. engine 2 stops answering (its dockerd frozen): the first learner is told their machine is gone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type Docker from 'dockerode';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newLabPage, screenshot, startServerProc, tempDir, typeInTerminal, uniqueOwner, waitForTermText, ARTIFACTS, ROOT, type ServerProc } from './harness.ts';
import { cleanupOwner } from './cleanup.ts';
import { REPLICA_COOKIE, startHaproxy, type Haproxy } from './haproxy.test-support.ts';
import { freePort, startTestRedis, type TestRedis } from './redis.test-support.ts';
import { defaultDataDir } from '../server/config.ts';
import { ENGINES_TUNING } from '../server/engines.ts';
import { createTestDatabase } from '../server/sessions/postgres.test-support.ts';
import { createDockerSandboxDriver } from '../sandbox/driver/index.ts';
import { ENGINE_LOST_MESSAGE } from '../sandbox/driver/engine-fleet.ts';
import { startSecondEngine, type SecondEngine } from '../sandbox/driver/second-engine.test-support.ts';

const DATA = defaultDataDir(ROOT);
const owner = uniqueOwner('scale-out');
const engine2Name = `so${process.pid}`;
const labsDir = tempDir('scale-labs');
fs.writeFileSync(
  path.join(labsDir, 'where.md'),
  '---\ntitle: Where am I\nterms: 1\n---\n## Leave a mark\n\n```.term1\necho engine-two-ok > mark.txt; hostname\n```\n\n```check\n- file: mark.txt\n  contains: engine-two-ok\n- run: cat mark.txt\n  output: engine-two-ok\n```\n',
);
const enginesFile = path.join(tempDir('scale-engines'), 'engines.yaml');

let browser: Browser;
let db: { url: string; drop(): Promise<void> } | undefined;
let redis: TestRedis | undefined;
let engine2: SecondEngine | undefined;
let replicas: ServerProc[] = [];
let proxy: Haproxy | undefined;
let frozenPid: number | undefined;

function writeEngines(drained: 'local' | 'e2'): void {
  fs.writeFileSync(enginesFile, `engines:\n  - url: unix:///var/run/docker.sock\n    drain: ${drained === 'local'}\n  - id: e2\n    url: unix://${engine2!.socketPath}\n    drain: ${drained === 'e2'}\n`);
}

const sandboxesOn = async (docker: Docker, ownerId: string): Promise<number> =>
  (await docker.listContainers({ filters: { label: [`io.lablab.owner=${ownerId}`, 'io.lablab.kind=sandbox'] } })).length;

const replicaLogs = () => replicas.map((s, i) => `--- replica ${i} ---\n${s.output()}`).join('\n');

before(async () => {
  engine2 = await startSecondEngine({ dir: path.join(DATA, 'test-engines', engine2Name), name: engine2Name });
  writeEngines('local');
  db = await createTestDatabase('lablab_e2e');
  redis = await startTestRedis();
  const env = (id: string) => ({ DATABASE_URL: db!.url, REDIS_URL: redis!.url, REPLICA_ID: id, PREPARE_TEMPLATES: '0', ENGINES_FILE: enginesFile });
  replicas = await Promise.all([
    startServerProc({ labsDir, dataDir: DATA, ownerId: owner, env: env('replica-0') }),
    startServerProc({ labsDir, dataDir: DATA, ownerId: owner, env: env('replica-1') }),
  ]);
  proxy = await startHaproxy(tempDir('scale-haproxy'), await freePort(), replicas.map((s) => new URL(s.url).host));
  browser = await launchBrowser();
});

after(async () => {
  if (frozenPid) process.kill(frozenPid, 'SIGCONT');
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  replicas.forEach((s, i) => fs.writeFileSync(path.join(ARTIFACTS, `scale-out-replica-${i}.log`), s.output()));
  if (proxy) fs.writeFileSync(path.join(ARTIFACTS, 'scale-out-haproxy.log'), proxy.output());
  await browser?.close();
  await proxy?.stop();
  for (const s of replicas) if (s.proc.exitCode === null && s.proc.signalCode === null) await s.stop();
  await cleanupOwner(DATA, owner);
  if (engine2) {
    // Engine 2's sandboxes have their disks and cgroups on this host: its own driver releases them.
    const d2 = createDockerSandboxDriver({ dataDir: path.join(DATA, 'e', 'e2'), ownerId: `${owner}-e2`, docker: { socketPath: engine2.socketPath }, log: () => {} });
    await d2.reap({ now: Number.MAX_SAFE_INTEGER, isLive: () => false }).catch(() => {});
    await d2.dispose();
    await engine2.stop();
  }
  await redis?.stop();
  await db?.drop();
});

async function openLab(): Promise<Page> {
  const page = await newLabPage(browser);
  await page.goto(`${proxy!.url}/labs/where`);
  await page.waitForSelector('[data-term-state="1"][data-state="ready"]', { timeout: 150_000 }).catch(async (err) => {
    console.log(replicaLogs());
    console.log(await page.locator('body').innerText().catch(() => ''));
    throw err;
  });
  await waitForTermText(page, 1, /\[node1\] \/root \$/);
  return page;
}

test('two replicas on PostgreSQL and Redis, two engines: placement, checks on engine 2, fail-over, drain, a lost engine', { timeout: 600_000 }, async () => {
  const Dockerode = (await import('dockerode')).default;
  const host = new Dockerode({ socketPath: '/var/run/docker.sock' });
  for (const r of replicas) assert.match(r.output(), /sandbox engines: local \(unix:\/\/\/var\/run\/docker\.sock, drained\), e2 \(/);

  // 1. The host engine is drained: the learner lands on engine 2, clicks, and the checks pass.
  const page = await openLab();
  try {
    assert.equal(await sandboxesOn(engine2!.docker, `${owner}-e2`), 1, 'the first learner runs on engine 2');
    assert.equal(await sandboxesOn(host, owner), 0, 'the drained host engine got nothing');
    await page.locator('pre[data-term="1"]').click();
    await waitForTermText(page, 1, /node1\s*\n/);
    await page.locator('section[data-step-id] [data-check-status]:not([data-check-status="pass"])').first().waitFor({ state: 'detached', timeout: 60_000 });
    assert.equal(await page.locator('[data-check-status="pass"]').count(), 2, 'both checks pass, read from engine 2');

    // 2. Kill the learner's replica: the other one takes over the same shell on engine 2.
    await typeInTerminal(page, 1, 'export LAB_MARK=moved-7373; echo "before-$LAB_MARK"\n');
    await waitForTermText(page, 1, /before-moved-7373/);
    const pin = (await page.context().cookies()).find((c) => c.name === REPLICA_COOKIE);
    assert.ok(pin, 'HAProxy pinned the learner to a replica');
    assert.match(pin.value, /^r[01]$/);
    const mine = Number(pin.value.slice(1));
    const other = 1 - mine;
    await replicas[mine]!.kill();
    await page.waitForSelector('#session-status[data-phase="reconnecting"]', { timeout: 20_000 });
    await page.waitForSelector('#session-status[data-phase="ready"]', { timeout: 60_000 });
    await waitForTermText(page, 1, /before-moved-7373/, 20_000); // scrollback replayed by the other replica
    await typeInTerminal(page, 1, 'echo "after-$LAB_MARK"\n');
    await waitForTermText(page, 1, /after-moved-7373/); // the variable survived: the same shell
    const now = (await page.context().cookies()).find((c) => c.name === REPLICA_COOKIE);
    assert.equal(now?.value, `r${other}`, 'HAProxy moved the learner to the surviving replica');
    assert.match(replicas[other]!.output(), /re-attached to 1 sandbox/);
    assert.equal(await sandboxesOn(engine2!.docker, `${owner}-e2`), 1, 'still the one sandbox on engine 2: nothing made again, nothing reaped');
    // A port link, served by the surviving replica, reaches the learner's service on engine 2.
    await typeInTerminal(page, 1, 'mkdir -p /tmp/www && echo port-on-$(hostname)-e2 > /tmp/www/index.html && (cd /tmp/www && python3 -m http.server 8080 >/dev/null 2>&1 &)\n');
    let body = '';
    for (let i = 0; i < 40 && !body.includes('port-on-node1-e2'); i++) {
      const res = await page.request.get(`${proxy!.url}/labs/where/port/1/8080/`);
      body = await res.text();
      if (!body.includes('port-on-node1-e2')) await new Promise((r) => setTimeout(r, 250));
    }
    assert.match(body, /port-on-node1-e2/, 'the port link reached the service in the sandbox on engine 2');
    await screenshot(page, 'scale-out-after-failover');
  } catch (err) {
    await screenshot(page, 'scale-out-engine-2');
    throw err;
  }

  // 3. Drain engine 2 in the file (re-read at the next probe): the next learner lands on the host engine.
  writeEngines('e2');
  await new Promise((r) => setTimeout(r, ENGINES_TUNING.probeEveryMs + 3_000));
  const second = await openLab();
  try {
    assert.equal(await sandboxesOn(host, owner), 1, 'the second learner runs on the host engine');
    assert.equal(await sandboxesOn(engine2!.docker, `${owner}-e2`), 1, 'the drained engine 2 got no new session');
  } catch (err) {
    await screenshot(second, 'scale-out-host-engine');
    throw err;
  }

  // 4. Engine 2 stops answering (dockerd frozen, as a hung host or a cut link): after two missed
  //    probes its learner is told plainly, and the learner on the host engine carries on.
  frozenPid = Number(fs.readFileSync(`/run/lablab-${engine2Name}/dockerd.pid`, 'utf8').trim());
  process.kill(frozenPid, 'SIGSTOP');
  try {
    await page.waitForSelector('#session-status[data-phase="failed"]', { timeout: 4 * ENGINES_TUNING.probeEveryMs + 20_000 });
    assert.ok((await page.locator('body').innerText()).includes(ENGINE_LOST_MESSAGE), 'the learner reads why their session ended');
    assert.equal(await page.locator('#overlay-box h2').innerText(), 'Your sandbox stopped', 'a sandbox that ran is not said to have failed to start');
    await screenshot(page, 'scale-out-engine-lost');
    await typeInTerminal(second, 1, 'echo still-here-$((6*7))\n');
    await waitForTermText(second, 1, /still-here-42/);
  } catch (err) {
    console.log(replicaLogs());
    await screenshot(page, 'scale-out-engine-lost');
    throw err;
  } finally {
    process.kill(frozenPid, 'SIGCONT');
    frozenPid = undefined;
  }
  await page.context().close();
  await second.context().close();
});
