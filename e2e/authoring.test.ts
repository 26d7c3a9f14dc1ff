// The instructor's loop: save a lab, the open page offers the new version; break a lab, the
// catalogue and the lab page say exactly what is wrong, and the other labs keep working.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { launchBrowser, newLabPage, screenshot, startServerProc, tempDir, uniqueOwner, ROOT, type ServerProc } from './harness.ts';
import { cleanupOwner } from './cleanup.ts';
import { defaultDataDir } from '../server/config.ts';

const DATA = defaultDataDir(ROOT);
const owner = uniqueOwner('authoring');
const labsDir = tempDir('authoring-labs');
const labFile = path.join(labsDir, 'draft.md');
let server: ServerProc;
let browser: Browser;

before(async () => {
  fs.writeFileSync(labFile, '---\ntitle: Draft lab\nterms: 0\n---\n## First step\n\nThe first version.\n');
  server = await startServerProc({ labsDir, dataDir: DATA, ownerId: owner, env: { DB_FILE: path.join(tempDir('authoring-db'), 'db.sqlite') } });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await cleanupOwner(DATA, owner);
});

test('saving a lab offers the new version on the open page', { timeout: 60_000 }, async () => {
  const page = await newLabPage(browser);
  await page.goto(`${server.url}/labs/draft`);
  await page.getByText('The first version.').waitFor();
  fs.writeFileSync(labFile, '---\ntitle: Draft lab\nterms: 0\n---\n## First step\n\nThe second version.\n');
  await page.locator('#lab-changed button').click({ timeout: 15_000 });
  await page.getByText('The second version.').waitFor();
  await page.context().close();
});

test('a broken lab is shown with file:line errors and does not take the others down', { timeout: 60_000 }, async () => {
  fs.writeFileSync(path.join(labsDir, 'broken.md'), '---\ntitle: Broken\nterms: 9\n---\n## Step\n\n```check\n- image: x\n  flavour: sweet\n```\n');
  const page = await newLabPage(browser);
  await page.waitForTimeout(1000); // the folder watcher's debounce
  await page.goto(`${server.url}/`);
  await page.locator('[data-lab-id="broken"].broken').waitFor();
  await page.locator('[data-lab-id="broken"] a').click();
  const problems = await page.locator('.problems').innerText();
  assert.match(problems, /broken\.md:3/, problems);
  assert.match(problems, /broken\.md:9/, problems);
  await screenshot(page, 'broken-lab');
  await page.goto(`${server.url}/labs/draft`);
  await page.getByText('Draft lab').first().waitFor();
  await page.context().close();
});
