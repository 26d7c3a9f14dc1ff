// Issue 2's end-to-end path, as a learner does it: catalogue → lab → click blocks → the build
// runs in the learner's own Docker-in-Docker sandbox → the size check turns to pass by itself.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newLabPage, screenshot, startServerProc, tempDir, uniqueOwner, waitForTermText, ROOT, type ServerProc } from './harness.ts';
import { cleanupOwner } from './cleanup.ts';
import { defaultDataDir } from '../server/config.ts';

const DATA = defaultDataDir(ROOT);
const owner = uniqueOwner('multistage');
let server: ServerProc;
let browser: Browser;
let page: Page;

before(async () => {
  server = await startServerProc({ dataDir: DATA, ownerId: owner, env: { DB_FILE: path.join(tempDir('multistage'), 'db.sqlite') } });
  browser = await launchBrowser();
  page = await newLabPage(browser);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await cleanupOwner(DATA, owner);
});

test('a learner builds the multi-stage image and the checks tick by themselves', { timeout: 300_000 }, async () => {
  await page.goto(server.url + '/');
  await page.locator('[data-lab-id="03-multi-stage"] a').click();
  await page.waitForURL(/\/labs\/03-multi-stage$/);

  // Lab text on one side, an xterm terminal on the other.
  assert.equal(await page.locator('[data-terminal="1"] .xterm').count(), 1);
  await page.waitForSelector('[data-term-state="1"][data-state="ready"]', { timeout: 120_000 });
  await waitForTermText(page, 1, /\[node1\] \/root \$/);

  const blocks = page.locator('pre[data-term="1"]');
  assert.ok((await blocks.count()) >= 3, 'the lab has clickable .term1 blocks');

  // Step 1: two here-documents, typed as a paste (tabs and blank lines survive).
  await blocks.nth(0).click();
  await blocks.nth(1).click();
  await waitForTermText(page, 1, /ENTRYPOINT \["\.\/welcome"\]\s*\n[^\n]*EOF/);

  const step1 = page.locator('section[data-step-id="s1"] [data-check-status]');
  await page.locator('section[data-step-id="s1"] [data-check-status]:not([data-check-status="pass"])').first().waitFor({ state: 'detached', timeout: 30_000 });
  assert.ok((await step1.count()) >= 1);

  // Step 2: the build, in the sandbox's own engine.
  const sizeCheck = page.locator('li.check', { hasText: 'under 20 MB' });
  assert.equal(await sizeCheck.locator('[data-check-status]').getAttribute('data-check-status'), 'pending');
  await blocks.nth(2).click();
  await waitForTermText(page, 1, /Successfully tagged welcome-optimized:v1/, 180_000);

  // No click on "Check": the engine's events drive the verdict.
  await sizeCheck.locator('[data-check-status="pass"]').waitFor({ timeout: 30_000 });
  assert.match(await sizeCheck.locator('.check-message').innerText(), /MB/);
  await page.locator('li.check', { hasText: 'built from scratch' }).locator('[data-check-status="pass"]').waitFor({ timeout: 10_000 });

  // Step 3: run it.
  await blocks.nth(3).click();
  await waitForTermText(page, 1, /Welcome aboard: this Go binary is running in a container\./);
  await screenshot(page, 'multi-stage-passed');

  // The catalogue shows the progress.
  await page.goto(server.url + '/');
  const progress = await page.locator('[data-lab-id="03-multi-stage"] [data-progress]').getAttribute('data-progress');
  const [passed] = (progress ?? '0/0').split('/').map(Number);
  assert.ok(passed! >= 7, `catalogue progress ${progress}`);
});
