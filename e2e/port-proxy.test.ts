// A `{:data-port}` link opens a port inside the learner's own sandbox, through the server and the
// Docker API (no container IP), and only for that learner.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { launchBrowser, newLabPage, screenshot, startServerProc, tempDir, uniqueOwner, waitForTermText, ROOT, type ServerProc } from './harness.ts';
import { cleanupOwner } from './cleanup.ts';
import { defaultDataDir } from '../server/config.ts';

const DATA = defaultDataDir(ROOT);
const owner = uniqueOwner('port');
const labsDir = tempDir('port-labs');
fs.writeFileSync(
  path.join(labsDir, 'web.md'),
  [
    '---', 'title: A web page', 'images: [busybox]', '---', '## Serve a page', '',
    '```.term1',
    "docker run -d --name web -p 8080:8080 busybox sh -c 'mkdir -p /www && echo \"<h1>hello from node1</h1>\" > /www/index.html && httpd -f -p 8080 -h /www'",
    '```', '',
    '[Open the page](/){:data-term=".term1"}{:data-port="8080"}', '',
  ].join('\n'),
);
let server: ServerProc;
let browser: Browser;

before(async () => {
  server = await startServerProc({ labsDir, dataDir: DATA, ownerId: owner, env: { DB_FILE: path.join(tempDir('port-db'), 'db.sqlite') } });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await cleanupOwner(DATA, owner);
});

test('a port link opens the learner’s own service; a stranger and a closed port get clear pages', { timeout: 180_000 }, async () => {
  const page = await newLabPage(browser);
  await page.goto(`${server.url}/labs/web`);
  await page.waitForSelector('[data-term-state="1"][data-state="ready"]', { timeout: 120_000 });
  await waitForTermText(page, 1, /\[node1\] \/root \$/);

  // Before anything listens: a sentence, not a hang.
  const early = await page.request.get(`${server.url}/labs/web/port/1/8080/`);
  assert.equal(early.status(), 502);
  assert.match(await early.text(), /Nothing answered on port 8080 in node1/);
  assert.doesNotMatch(await early.text(), /http-equiv="refresh"/, 'a script or curl gets the sentence, not a page that reloads');
  // A browser tab opened from the port link before the service listens tries again by itself.
  const earlyTab = await page.request.get(`${server.url}/labs/web/port/1/8080/`, { headers: { accept: 'text/html,application/xhtml+xml' } });
  assert.equal(earlyTab.status(), 502);
  const earlyHtml = await earlyTab.text();
  assert.match(earlyHtml, /<meta http-equiv="refresh" content="2">/);
  assert.match(earlyHtml, /This page tries again every 2 s/);

  await page.locator('pre[data-term="1"]').click();
  await waitForTermText(page, 1, /\n[0-9a-f]{64}\s*\n/);
  const [popup] = await Promise.all([page.waitForEvent('popup'), page.locator('a.port-link').click()]);
  // Clicked the moment the id shows, as a learner does: the tab may first say nothing answers yet,
  // then shows the page by itself (it tries again every 2 s; a hung first try is cut at 8 s).
  await popup.getByText('hello from node1').waitFor({ timeout: 60_000 });
  await screenshot(popup, 'port-proxy');

  // Another learner (another cookie) cannot reach it.
  const stranger = await newLabPage(browser);
  const res = await stranger.request.get(`${server.url}/labs/web/port/1/8080/`);
  assert.equal(res.status(), 404);
  assert.doesNotMatch(await res.text(), /hello from node1/);
  await stranger.context().close();
  await page.context().close();
});
