// Issue 10 in the browser: a host creates an event, a learner joins through its link, a hint shows
// after two failed checks, the host's grid turns green by itself, the host watches the learner's
// terminal, broadcasts, resets the sandbox (progress kept) and exports CSV; /metrics and host auth.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newLabPage, screenshot, startServerProc, tempDir, typeInTerminal, uniqueOwner, waitForTermText, ROOT, type ServerProc } from './harness.ts';
import { cleanupOwner } from './cleanup.ts';
import { defaultDataDir } from '../server/config.ts';

const DATA = defaultDataDir(ROOT);
const TOKEN = 'host-secret-e2e';
const HINT = 'Run the block above: it writes done.txt into /root.';
const labsDir = tempDir('workshop-labs');
fs.mkdirSync(path.join(labsDir, 'ws-lab'));
fs.writeFileSync(path.join(labsDir, 'ws-lab', 'lab.md'), `---
title: Workshop lab
terms: 1
hint_after: 30m
---
## Write a file

\`\`\`.term1
echo hello > /root/done.txt
\`\`\`

\`\`\`check
- file: done.txt
  hint: "${HINT}"
\`\`\`

## Second step

\`\`\`.term1
echo later > /root/later.txt
\`\`\`

\`\`\`check
- file: later.txt
\`\`\`
`);
fs.writeFileSync(path.join(labsDir, 'ws-lab', 'notes.txt'), 'lab files arrive in a pooled sandbox too\n');

let browser: Browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/** What the host's read-only terminal shows. */
async function watchText(page: Page): Promise<string> {
  return page.locator('#watch-term .xterm-rows').innerText().catch(() => '');
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('a workshop event', () => {
  const owner = uniqueOwner('workshop');
  const db = path.join(tempDir('workshop-db'), 'db.sqlite');
  let server: ServerProc;

  before(async () => {
    server = await startServerProc({ labsDir, dataDir: DATA, ownerId: owner, env: { DB_FILE: db, HOST_TOKEN: TOKEN, POOL_SIZE: '1' } });
  });
  after(async () => {
    await server?.stop();
    await cleanupOwner(DATA, owner);
  });

  test('join link, hint, live grid, watching, broadcast, reset with progress kept, CSV', { timeout: 300_000 }, async () => {
    // ---- the host signs in with the token once; it becomes an http-only cookie and leaves the URL ----
    const host = await newLabPage(browser);
    await host.goto(`${server.url}/host?token=${TOKEN}`);
    assert.equal(new URL(host.url()).search, '', 'the token is taken out of the address bar');
    const cookies = await host.context().cookies();
    const hc = cookies.find((c) => c.name === 'lablab_host');
    assert.ok(hc?.httpOnly, 'the host cookie is http-only');
    assert.ok(!hc.value.includes(TOKEN), 'the cookie is not the token itself');

    // ---- the host creates the event through the page ----
    await host.fill('input[name="name"]', 'DevConf Docker');
    await host.fill('input[name="expected"]', '5');
    await host.click('button[type="submit"]');
    await host.waitForURL(/\/host\/events\//).catch(async (err) => {
      throw new Error(`${(err as Error).message}\nat ${host.url()}: ${await host.locator('main').innerText().catch(() => '')}`);
    });
    const joinUrl = await host.locator('#join-link').getAttribute('href');
    const code = (await host.locator('#event-code').innerText()).trim();
    assert.match(code, /^[A-Z2-9]{6}$/);
    assert.ok(joinUrl?.endsWith(`/e/${code}`));
    await host.waitForSelector('#grid table');

    // The event pre-warms the pool for its head count: the first learner gets a pooled sandbox.
    await waitFor('a warm sandbox', async () => {
      const m = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
      return /^lablab_pool_size [1-9]/m.test(m);
    }, 120_000);

    // ---- a learner opens the link, gives a name, lands in the lab ----
    const learner = await newLabPage(browser);
    await learner.goto(joinUrl!);
    await learner.fill('#display-name', 'Ada Lovelace');
    await learner.click('.join-form button[type="submit"]');
    await learner.waitForURL(/\/labs\/ws-lab$/);
    await learner.waitForSelector('[data-term-state="1"][data-state="ready"]', { timeout: 120_000 });
    await waitForTermText(learner, 1, /\[node1\] \/root \$/);
    // The pooled sandbox got the lab's files at take time.
    await typeInTerminal(learner, 1, 'cat notes.txt\n');
    await waitForTermText(learner, 1, /lab files arrive in a pooled sandbox too/);

    // ---- the grid shows the learner, not passed yet ----
    const row = host.locator('tr[data-learner-id]', { hasText: 'Ada Lovelace' });
    await row.waitFor({ timeout: 15_000 });

    // ---- two failed checks: the hint appears after the second, not the first ----
    const step1 = learner.locator('section[data-step-id]').first();
    await step1.locator('[data-check-step]').click();
    await step1.locator('[data-check-status="fail"]').waitFor({ timeout: 20_000 });
    await host.locator('tr[data-learner-id] td.cell-fail').first().waitFor({ timeout: 10_000 });
    assert.match(await row.locator('td.cell').first().innerText(), /done\.txt/, 'the host sees why it fails');
    await learner.waitForTimeout(500);
    assert.equal(await learner.locator('.step-hint').count(), 0, 'no hint after one failure');
    assert.doesNotMatch(await step1.locator('.check-message').first().innerText(), /writes done\.txt/, 'the hint is not in the failure message');
    await step1.locator('[data-check-step]').click();
    const hint = learner.locator('.step-hint');
    await hint.waitFor({ timeout: 10_000 });
    assert.match(await hint.innerText(), /writes done\.txt into \/root/);
    await screenshot(learner, 'workshop-hint');

    // ---- the learner passes the step: the host's cell turns green with no reload ----
    const hostNavigations: string[] = [];
    host.on('framenavigated', (f) => hostNavigations.push(f.url()));
    await step1.locator('pre[data-term]').first().click();
    await step1.locator('[data-check-status="pass"]').waitFor({ timeout: 30_000 });
    await row.locator('td.cell').first().and(host.locator('[data-status="pass"]')).waitFor({ timeout: 10_000 });
    assert.deepEqual(hostNavigations, [], 'the host page did not reload');
    await screenshot(host, 'workshop-grid-green');

    // ---- the host watches the learner's terminal, live and read-only; the learner is told ----
    await row.locator('[data-watch]').click();
    await host.waitForSelector('#watch:not([hidden])');
    await learner.locator('#being-watched').waitFor({ timeout: 10_000 });
    await typeInTerminal(learner, 1, 'echo "watched-$((6*7))"\n');
    await waitFor('the watched output on the host page', async () => /watched-42/.test(await watchText(host)));
    // Typing into the host's view reaches nothing.
    await host.locator('#watch-term').click();
    await host.keyboard.type('echo from-host-typing\n');
    await learner.waitForTimeout(800);
    assert.doesNotMatch(await watchText(host), /from-host-typing/);
    await screenshot(host, 'workshop-watch');

    // ---- broadcast to the room ----
    await host.fill('#broadcast-text', 'Coffee break in 5 minutes');
    await host.click('#broadcast-form button[type="submit"]');
    const msg = learner.locator('#workshop-message');
    await msg.waitFor({ timeout: 10_000 });
    assert.match(await msg.innerText(), /DevConf Docker.*Coffee break in 5 minutes/s);

    // ---- reset: a fresh sandbox, progress kept ----
    await typeInTerminal(learner, 1, 'touch /root/old-sandbox-marker && echo marked\n');
    await waitForTermText(learner, 1, /marked/);
    host.once('dialog', (d) => void d.accept());
    await row.locator('[data-reset]').click();
    await learner.waitForSelector('#session-status[data-phase="starting"]', { timeout: 15_000 }).catch(() => {}); // may be too quick to see
    await learner.waitForSelector('#session-status[data-phase="ready"]', { timeout: 120_000 });
    await learner.waitForSelector('[data-term-state="1"][data-state="ready"]', { timeout: 60_000 });
    await typeInTerminal(learner, 1, 'ls /root/old-sandbox-marker || echo "fresh-$((40+2))"\n');
    await waitForTermText(learner, 1, /fresh-42/, 30_000);
    assert.equal(await step1.locator('[data-check-status="pass"]').count(), 1, 'the passed step stays passed on the page');
    await learner.reload();
    await learner.waitForSelector('[data-term-state="1"][data-state="ready"]', { timeout: 60_000 });
    assert.equal(await learner.locator('section[data-step-id]').first().locator('[data-check-status="pass"]').count(), 1, 'and after a reload');
    await row.locator('td.cell').first().and(host.locator('[data-status="pass"]')).waitFor({ timeout: 10_000 });
    // The host keeps watching across the reset: the new shell shows up in the view.
    await typeInTerminal(learner, 1, 'echo "after-reset-$((5*5))"\n');
    await waitFor('the new shell in the host view', async () => /after-reset-25/.test(await watchText(host)));

    // ---- CSV export ----
    const csv = await host.context().request.get(`${server.url}${await host.locator('#csv-link').getAttribute('href')}`);
    assert.equal(csv.status(), 200);
    const text = await csv.text();
    assert.match(csv.headers()['content-type'] ?? '', /text\/csv/);
    assert.match(text, /^event,learner,lab,phase,steps_passed/);
    assert.match(text, /DevConf Docker,Ada Lovelace,Workshop lab,ready,1,2,/);
    assert.match(text, /Write a file: pass/);

    // ---- metrics: the figures, refused without the token ----
    const anon = await fetch(`${server.url}/metrics`);
    assert.equal(anon.status, 403);
    const wrong = await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer nope' } });
    assert.equal(wrong.status, 403);
    const m = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    assert.match(m, /^lablab_sandboxes\{state="ready"\} 1$/m);
    assert.match(m, /^lablab_sandboxes\{state="pool_idle"\} \d+$/m);
    assert.match(m, /^lablab_pool_size \d+$/m);
    assert.match(m, /^lablab_queue_length 0$/m);
    assert.match(m, /^lablab_sandbox_ready_seconds_count\{source="pool"\} [1-9]/m);
    assert.match(m, /^lablab_sandbox_ready_seconds_bucket\{(le="0.5",source="pool"|source="pool",le="0.5")\} \d+$/m);
    assert.match(m, /^lablab_check_seconds_count [1-9]/m);
    assert.match(m, /^lablab_terminal_bytes_total [1-9]\d*$/m);
    assert.match(m, new RegExp(`^lablab_event_active_learners\\{event="${code}"\\} 1$`, 'm'));

    // ---- a learner cannot open the host's pages or its socket view ----
    const asLearner = await learner.context().request.get(`${server.url}/host/events/x/progress.csv`, { maxRedirects: 0 });
    assert.equal(asLearner.status(), 403);
    await learner.close();
    await host.close();
  });
});
