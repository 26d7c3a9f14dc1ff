// A Docker Labspace, unchanged, in Chromium: its save-as block saves a file into the workspace that
// project/ seeded, its bash block runs, the checks a checks.yaml sidecar adds tick, and its
// :tabLink to localhost:8080 opens the learner's own port 8080. Its variable ($$who$$) takes the
// learner's value from an input or a set button, in prose and in what a block types, shows or hides a
// conditionalDisplay, refuses a 10 MB value, and survives a reload and a second tab.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { launchBrowser, newLabPage, screenshot, startServerProc, tempDir, typeInTerminal, uniqueOwner, waitForTermText, ROOT, type ServerProc } from './harness.ts';
import { cleanupOwner } from './cleanup.ts';
import { defaultDataDir } from '../server/config.ts';

const DATA = defaultDataDir(ROOT);
const owner = uniqueOwner('ls');
let server: ServerProc;
let browser: Browser;

before(async () => {
  server = await startServerProc({ labsDir: path.join(ROOT, 'server/labs/fixtures/verify'), dataDir: DATA, ownerId: owner, env: { DB_FILE: path.join(tempDir('ls-db'), 'db.sqlite') } });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await cleanupOwner(DATA, owner);
});

test('Labspace: Save file writes into the workspace, the run block runs, sidecar checks tick, the tab link opens the port', { timeout: 300_000 }, async () => {
  const page = await newLabPage(browser);
  await page.goto(`${server.url}/labs/labspace-notes`);
  await page.waitForSelector('[data-term-state="1"][data-state="ready"]', { timeout: 180_000 }).catch(async (e: Error) => {
    throw new Error(`${e.message}\npage says: ${await page.locator('#session-status').textContent()} / ${await page.locator('#overlay-box').textContent()}\nserver:\n${server.output().slice(-3000)}`);
  });
  await waitForTermText(page, 1, /\[node1\] \/root \$/);

  // The sidecar's checks are on the page, pending.
  const checks = page.locator('.checks[data-step-id="s1"] [data-check-status]');
  assert.equal(await checks.count(), 2);

  // Save file: the block's text lands in notes/today.txt, nothing is typed.
  const save = page.locator('pre.save-block[data-save-path="notes/today.txt"]');
  assert.equal(await save.getAttribute('data-term'), null);
  await page.locator('[data-save-block]').click();
  await page.waitForSelector('pre.save-block.ran', { timeout: 30_000 }).catch(async (e: Error) => {
    throw new Error(`${e.message}\nthe page said: ${await page.locator('#toasts').textContent().catch(() => '')}`);
  });
  await typeInTerminal(page, 1, 'cat notes/today.txt seed.txt\r');
  await waitForTermText(page, 1, /hello from a saved file\s*\n\s*seed from the project/);

  // The bash fence is a run block; the sidecar's checks pass once it ran.
  await page.locator('pre.run-block', { hasText: 'cat notes/today.txt seed.txt > shown.txt' }).click();
  await page.waitForSelector('.checks[data-step-id="s1"] [data-check-status="pass"] >> nth=1', { timeout: 30_000 });

  // :tabLink to localhost:8080 → the learner's own port 8080, that path.
  const link = page.locator('a.port-link', { hasText: 'the shown notes' });
  assert.match((await link.getAttribute('href'))!, /\/labs\/labspace-notes\/port\/1\/8080\/shown\.txt$/);
  await typeInTerminal(page, 1, 'python3 -m http.server 8080 --directory /root >/dev/null 2>&1 &\r');
  let served = '';
  for (let i = 0; i < 40 && !/saved file/.test(served); i++) {
    await page.waitForTimeout(250);
    served = await (await page.request.get(await link.evaluate((a) => (a as HTMLAnchorElement).href))).text();
  }
  assert.match(served, /hello from a saved file/);
  const [popup] = await Promise.all([page.waitForEvent('popup', { timeout: 90_000 }), link.click()]);
  await popup.getByText('seed from the project').waitFor({ timeout: 60_000 });
  await popup.close();
  await screenshot(page, 'labspace-actions');

  // ---- variables: the learner's own value in prose and blocks, kept with the learner ----
  const who = page.locator('#lab-text span.lab-var[data-lab-var="who"]');
  const grace = page.locator('#lab-text .lab-when[data-when-var="who"]');
  assert.equal(await who.count(), 2); // the prose and the run block
  assert.deepEqual(await who.allTextContents(), ['world', 'world']);
  assert.equal(await grace.isHidden(), true);
  // Markup characters in a value are text, on the page and in the shell.
  const ada = 'Ada <i>&amp;</i>';
  await page.locator('input[data-lab-var-input="who"]').fill(ada);
  await page.locator('form[data-lab-var-form="who"] button').click();
  await page.waitForFunction((v) => [...document.querySelectorAll('#lab-text span.lab-var[data-lab-var="who"]')].every((s) => s.textContent === v), ada, { timeout: 10_000 });
  assert.equal(await page.locator('#lab-text span.lab-var i').count(), 0);
  const block = page.locator('pre.run-block', { hasText: 'who.txt' });
  assert.equal(await block.textContent(), `echo "hello ${ada}" > who.txt && cat who.txt`);
  await block.click();
  await waitForTermText(page, 1, /^hello Ada <i>&amp;<\/i>\s*$/m);
  // A 10 MB value is refused with the reason; the value in force does not change.
  await page.locator('input[data-lab-var-input="who"]').evaluate((el) => ((el as HTMLInputElement).value = 'x'.repeat(10 * 1024 * 1024)));
  await page.locator('form[data-lab-var-form="who"] button').click();
  await page.locator('form[data-lab-var-form="who"] .lab-var-error', { hasText: '10,485,760 characters long; a value may have at most 500' }).waitFor({ timeout: 10_000 });
  assert.deepEqual(await who.allTextContents(), [ada, ada]);
  // A set button sets it; the Grace-only part shows.
  await page.locator('a.lab-var-set', { hasText: 'Call me Grace' }).click();
  await grace.waitFor({ state: 'visible', timeout: 10_000 });
  assert.deepEqual(await who.allTextContents(), ['Grace', 'Grace']);
  // A reload keeps it (the server has it, not the page).
  await page.reload();
  await page.waitForSelector('#lab-text .lab-when[data-when-var="who"]:not([hidden])', { timeout: 30_000 });
  assert.deepEqual(await who.allTextContents(), ['Grace', 'Grace']);
  assert.equal(await page.locator('input[data-lab-var-input="who"]').inputValue(), 'Grace');
  // A second tab of the same learner shows it, and a value set there reaches the first tab live.
  const tab2 = await page.context().newPage();
  await tab2.goto(`${server.url}/labs/labspace-notes`);
  assert.deepEqual(await tab2.locator('#lab-text span.lab-var[data-lab-var="who"]').allTextContents(), ['Grace', 'Grace']);
  await tab2.waitForSelector('body[data-session-phase="ready"]', { timeout: 60_000 });
  await tab2.locator('input[data-lab-var-input="who"]').fill('Lin');
  await tab2.locator('form[data-lab-var-form="who"] button').click();
  await page.waitForFunction(() => [...document.querySelectorAll('#lab-text span.lab-var[data-lab-var="who"]')].every((s) => s.textContent === 'Lin'), undefined, { timeout: 10_000 });
  await grace.waitFor({ state: 'hidden', timeout: 10_000 });
  await screenshot(page, 'labspace-variables');
  await page.context().close();
});
