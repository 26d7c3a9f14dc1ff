// Issue 11 (workshops): one event served by two replicas on one PostgreSQL database and one Redis,
// each reached directly (no proxy). The host works on replica A, the learner on replica B:
// - the event made on A is known to B (its join link works there);
// - A's instructor grid shows the learner B serves, and their step turning green;
// - a broadcast sent from A reaches the learner's page on B;
// - watching that learner's terminal from A is refused with the reason (the terminal lives on B).
// Each replica gets its own SQLite file (as on separate hosts), so only the shared stores can carry
// the event; the data dir (cookie secret, scrollback) is shared, as the README asks of replicas.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { launchBrowser, newLabPage, screenshot, startServerProc, tempDir, uniqueOwner, ARTIFACTS, ROOT, type ServerProc } from './harness.ts';
import { cleanupOwner } from './cleanup.ts';
import { startTestRedis, type TestRedis } from './redis.test-support.ts';
import { defaultDataDir } from '../server/config.ts';
import { createTestDatabase } from '../server/sessions/postgres.test-support.ts';

const DATA = defaultDataDir(ROOT);
const TOKEN = 'host-secret-replicas-e2e';
const owner = uniqueOwner('workshop-replicas');
const labsDir = tempDir('workshop-replicas-labs');
fs.writeFileSync(path.join(labsDir, 'rlab.md'), `---
title: Replica lab
terms: 1
---
## Write a file

\`\`\`.term1
echo hello > /root/done.txt
\`\`\`

\`\`\`check
- file: done.txt
\`\`\`
`);

let browser: Browser;
let db: { url: string; drop(): Promise<void> };
let redis: TestRedis;
let a: ServerProc;
let b: ServerProc;

before(async () => {
  db = await createTestDatabase('lablab_e2e_ws');
  redis = await startTestRedis();
  const env = (id: string) => ({
    DATABASE_URL: db.url, REDIS_URL: redis.url, REPLICA_ID: id, HOST_TOKEN: TOKEN, PREPARE_TEMPLATES: '0',
    DB_FILE: path.join(tempDir(`workshop-${id}-db`), 'local.sqlite'),
  });
  a = await startServerProc({ labsDir, dataDir: DATA, ownerId: owner, env: env('replica-a') });
  b = await startServerProc({ labsDir, dataDir: DATA, ownerId: owner, env: env('replica-b') });
  browser = await launchBrowser();
});

after(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  for (const [name, s] of [['a', a], ['b', b]] as const) if (s) fs.writeFileSync(path.join(ARTIFACTS, `workshop-replica-${name}.log`), s.output());
  await browser?.close();
  await a?.stop();
  await b?.stop();
  await cleanupOwner(DATA, owner);
  await redis?.stop();
  await db?.drop();
});

test('the host on replica A runs an event whose learner is served by replica B', { timeout: 240_000 }, async () => {
  // ---- the host, on A, creates the event ----
  const host = await newLabPage(browser);
  await host.goto(`${a.url}/host?token=${TOKEN}`);
  await host.fill('input[name="name"]', 'Replicated Conf');
  await host.fill('input[name="expected"]', '3');
  await host.click('button[type="submit"]');
  await host.waitForURL(/\/host\/events\//);
  const code = (await host.locator('#event-code').innerText()).trim();
  await host.waitForSelector('#grid table');

  // ---- the learner, on B, joins by the link and gets a sandbox ----
  const learner = await newLabPage(browser);
  const joined = await learner.goto(`${b.url}/e/${code}`);
  assert.equal(joined?.status(), 200, 'replica B knows the event made on A');
  await learner.fill('#display-name', 'Grace Hopper');
  await learner.click('.join-form button[type="submit"]');
  await learner.waitForURL(/\/labs\/rlab$/);
  await learner.waitForSelector('[data-term-state="1"][data-state="ready"]', { timeout: 120_000 });

  // ---- A's grid shows the learner B serves, then their step passing, with no reload ----
  const row = host.locator('tr[data-learner-id]', { hasText: 'Grace Hopper' });
  await row.waitFor({ timeout: 15_000 });
  // "ready", not "not started": A sees the session B holds.
  await host.locator('tr[data-learner-id][data-phase="ready"]', { hasText: 'Grace Hopper' }).waitFor({ timeout: 15_000 });
  const step = learner.locator('section[data-step-id]').first();
  await step.locator('pre[data-term]').first().click();
  await step.locator('[data-check-status="pass"]').waitFor({ timeout: 60_000 });
  await row.locator('td.cell').first().and(host.locator('[data-status="pass"]')).waitFor({ timeout: 15_000 });
  await screenshot(host, 'workshop-replicas-grid');
  // Watching needs the learner's terminal, which lives on B: A says so rather than "no sandbox".
  await row.locator('[data-watch]').click();
  await host.locator('#toasts .toast', { hasText: 'Another server replica serves this learner' }).waitFor({ timeout: 10_000 });

  // ---- a broadcast from A reaches the learner's page on B ----
  await host.fill('#broadcast-text', 'Lunch across replicas');
  await host.click('#broadcast-form button[type="submit"]');
  const msg = learner.locator('#workshop-message');
  await msg.waitFor({ timeout: 10_000 });
  assert.match(await msg.innerText(), /Replicated Conf.*Lunch across replicas/s);
  await screenshot(learner, 'workshop-replicas-broadcast');
  await learner.context().close();
  await host.context().close();
});
