// Killercoda's actions in the fixture scenario, in Chromium: {{copy}} copies and never runs,
// {{exec interrupt}} stops a running command first, {{TRAFFIC_HOST1_8080}} opens the learner's own
// port, and <details> solutions start folded.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { launchBrowser, newLabPage, screenshot, startServerProc, tempDir, typeInTerminal, uniqueOwner, waitForTermText, termText, ROOT, type ServerProc } from './harness.ts';
import { cleanupOwner } from './cleanup.ts';
import { defaultDataDir } from '../server/config.ts';

const DATA = defaultDataDir(ROOT);
const owner = uniqueOwner('kc');
let server: ServerProc;
let browser: Browser;

before(async () => {
  server = await startServerProc({ labsDir: path.join(ROOT, 'server/labs/fixtures/killercoda'), dataDir: DATA, ownerId: owner, env: { DB_FILE: path.join(tempDir('kc-db'), 'db.sqlite') } });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await cleanupOwner(DATA, owner);
});

test('Killercoda actions: copy-only blocks, exec interrupt, TRAFFIC_HOST links, folded solutions', { timeout: 240_000 }, async () => {
  const page = await newLabPage(browser);
  await page.goto(`${server.url}/labs/hello-scenario`);
  await page.waitForSelector('[data-term-state="1"][data-state="ready"]', { timeout: 120_000 });
  await waitForTermText(page, 1, /\[node1\] \/root \$/);

  // {{copy}}: a Copy button, and a click on the block runs nothing.
  const sleepBlock = page.locator('pre.copy-block', { hasText: 'sleep 600' });
  assert.equal(await sleepBlock.getAttribute('data-term'), null);
  await sleepBlock.click();
  await page.waitForTimeout(500);
  assert.doesNotMatch(await termText(page, 1), /sleep 600/);
  await sleepBlock.locator('xpath=..').locator('.copy-button').click();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), 'sleep 600');

  // {{exec interrupt}}: with `sleep 600` running, the block still runs, because Ctrl-C goes first.
  await typeInTerminal(page, 1, 'sleep 600\r');
  await page.waitForTimeout(500);
  const check = page.locator('[data-check-id="s2.c1"] [data-check-status]');
  assert.equal(await check.getAttribute('data-check-status'), 'pending');
  await page.locator('pre.run-block[data-interrupt="1"]').click();
  await waitForTermText(page, 1, /\^C[\s\S]*echo stopped > \/root\/stopped\.txt/);
  await page.waitForSelector('[data-check-id="s2.c1"] [data-check-status="pass"]', { timeout: 20_000 });

  // {{TRAFFIC_HOST1_8080}}/stopped.txt: the learner's own port 8080, that path.
  const link = page.locator('a.port-link', { hasText: 'the served folder' });
  assert.match((await link.getAttribute('href'))!, /\/labs\/hello-scenario\/port\/1\/8080\/stopped\.txt$/);
  assert.match((await page.locator('a.port-link', { hasText: 'port 8080 on node1' }).getAttribute('href'))!, /\/port\/1\/8080\/$/);
  await typeInTerminal(page, 1, 'python3 -m http.server 8080 --directory /root >/dev/null 2>&1 &\r');
  let served = '';
  for (let i = 0; i < 40 && !/stopped/.test(served); i++) {
    await page.waitForTimeout(250);
    served = await (await page.request.get((await link.evaluate((a) => (a as HTMLAnchorElement).href)))).text();
  }
  assert.equal(served.trim(), 'stopped');
  const [popup] = await Promise.all([page.waitForEvent('popup'), link.click()]);
  await popup.getByText('stopped').waitFor({ timeout: 10_000 });
  await popup.close();

  // <details>: folded, the solution block hidden until opened, then clickable.
  const details = page.locator('details.lab-details');
  assert.equal(await details.getAttribute('open'), null);
  const solution = details.locator('pre.run-block');
  assert.equal(await solution.isVisible(), false);
  await details.locator('summary').click();
  assert.equal(await solution.isVisible(), true);
  await solution.click();
  await waitForTermText(page, 1, /cat \/root\/stopped\.txt\s*\n\s*stopped/);
  await screenshot(page, 'killercoda-actions');
  await page.context().close();
});
