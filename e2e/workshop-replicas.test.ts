// Issue 11 (workshops): one event served by two replicas on one PostgreSQL database and one Redis,
// each reached directly (no proxy). The host works on replica A, the learner on replica B:
// - the event made on A is known to B (its join link works there);
// - A's instructor grid shows the learner B serves, and their step turning green;
// - a broadcast sent from A reaches the learner's page on B;
// - the host on A watches that learner's terminal (it lives on B, which relays it through Redis),
//   resets their sandbox (B does it, progress kept) and stops watching (B's learner is told).
// Each replica gets its own SQLite file (as on separate hosts), so only the shared stores can carry
// the event; the data dir (cookie secret, scrollback) is shared, as the README asks of replicas.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newLabPage, screenshot, startServerProc, tempDir, typeInTerminal, uniqueOwner, waitForTermText, ARTIFACTS, ROOT, type ServerProc } from './harness.ts';
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

/** What the host's read-only terminal shows. */
async function watchText(page: Page): Promise<string> {
  return page.locator('#watch-term .xterm-rows').innerText().catch(() => '');
}

async function waitFor(what: string, fn: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

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

test('the host on replica A runs an event whose learner is served by replica B', { timeout: 480_000 }, async () => {
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
  // A's host summary counts the sandbox B runs (against the shared MAX_SANDBOXES).
  const summary = await (await host.context().request.get(`${a.url}/host`)).text();
  assert.match(summary, /<strong>1<\/strong> \/ \d+ sandboxes/, 'replica A counts the sandbox replica B serves');
  assert.match(summary, /<strong>1<\/strong> learners ready/);
  const step = learner.locator('section[data-step-id]').first();
  await step.locator('pre[data-term]').first().click();
  await step.locator('[data-check-status="pass"]').waitFor({ timeout: 60_000 });
  await row.locator('td.cell').first().and(host.locator('[data-status="pass"]')).waitFor({ timeout: 15_000 });
  await screenshot(host, 'workshop-replicas-grid');
  // ---- A watches the learner's terminal, which lives on B: B relays it through Redis ----
  await row.locator('[data-watch]').click();
  await host.waitForSelector('#watch:not([hidden])');
  await learner.locator('#being-watched').waitFor({ timeout: 10_000 }); // B tells its learner
  await waitFor('the scrollback replayed into the host view', async () => /done\.txt/.test(await watchText(host)));
  await typeInTerminal(learner, 1, 'echo "watched-across-$((6*7))"\n');
  await waitFor('the live output on the host view', async () => /watched-across-42/.test(await watchText(host)));
  await screenshot(host, 'workshop-replicas-watch');

  // ---- a broadcast from A reaches the learner's page on B ----
  await host.fill('#broadcast-text', 'Lunch across replicas');
  await host.click('#broadcast-form button[type="submit"]');
  const msg = learner.locator('#workshop-message');
  await msg.waitFor({ timeout: 10_000 });
  assert.match(await msg.innerText(), /Replicated Conf.*Lunch across replicas/s);
  await screenshot(learner, 'workshop-replicas-broadcast');

  // ---- a reset from A: B gives its learner a fresh sandbox, progress kept; A keeps watching ----
  await typeInTerminal(learner, 1, 'touch /root/old-marker && echo marked\n');
  await waitForTermText(learner, 1, /marked/);
  host.once('dialog', (d) => void d.accept());
  await row.locator('[data-reset]').click();
  await learner.locator('#workshop-notice', { hasText: 'fresh sandbox' }).waitFor({ timeout: 15_000 });
  // The page may still show the old sandbox as ready for a moment: keys typed then go to the old
  // shell, as they would for a learner typing through the reset. Type again until the new one answers.
  // A fresh sandbox on a loaded machine (a whole test run beside this one) took over 120 s to start.
  await waitFor('the fresh sandbox answering', async () => {
    await learner.waitForSelector('#session-status[data-phase="ready"]', { timeout: 240_000 });
    await learner.waitForSelector('[data-term-state="1"][data-state="ready"]', { timeout: 60_000 });
    await typeInTerminal(learner, 1, 'ls /root/old-marker || echo "fresh-$((40+2))"\n');
    return waitForTermText(learner, 1, /fresh-42/, 5_000).then(() => true, () => false);
  }, 300_000);
  await waitFor('the new shell in the host view on A', async () => /fresh-42/.test(await watchText(host)));
  assert.equal(await step.locator('[data-check-status="pass"]').count(), 1, 'the passed step stays passed');

  // ---- the host closes the view: B stops relaying and its learner's banner goes ----
  await host.locator('#watch-close').click();
  await learner.locator('#being-watched').waitFor({ state: 'hidden', timeout: 10_000 });
  await learner.context().close();
  await host.context().close();
});
