// Learners click at once. Every block of a lab is clicked the moment it is visible, 100 ms apart at
// most, before the sandbox or even the page's script is ready: nothing may be lost, nothing may
// run twice, and the checks must pass as if the blocks had been clicked one by one.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newLabPage, screenshot, startServerProc, tempDir, uniqueOwner, waitForTermText, ROOT, type ServerProc } from './harness.ts';
import { cleanupOwner } from './cleanup.ts';
import { underscoreInk } from './underscore-ink.ts';

let browser: Browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/** Opens the lab and clicks every run block as soon as it can be clicked, at most 100 ms apart. */
async function clickEverythingAtOnce(page: Page, url: string): Promise<number> {
  await page.goto(url, { waitUntil: 'commit' });
  const blocks = page.locator('pre[data-term]');
  await blocks.first().waitFor({ state: 'visible' });
  const n = await blocks.count();
  for (let i = 0; i < n; i++) {
    const t = Date.now();
    // A click the page does not take within 2 s fails here (no wall-clock assertion beyond that:
    // a busy machine slows every click alike).
    await blocks.nth(i).click({ timeout: 2_000 });
    await page.waitForTimeout(Math.max(0, 100 - (Date.now() - t)));
  }
  return n;
}

/** The checks of the last step can pass (from engine events) before its prompt is back: wait for the queue to drain. */
async function waitQueueDrained(page: Page, n: number): Promise<void> {
  await page.waitForFunction((n) => document.querySelectorAll('pre[data-term][data-run-state="queued"]').length === 0 && document.querySelectorAll('pre[data-term].ran').length === n, n, { timeout: 60_000 });
}

async function waitAllChecksPass(page: Page, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = await page.locator('[data-check-status]').evaluateAll((els) => els.map((e) => `${e.closest('li')?.textContent?.trim().slice(0, 60)} = ${e.getAttribute('data-check-status')}`));
    if (states.length && states.every((s) => s.endsWith('= pass'))) return;
    if (Date.now() > deadline) throw new Error(`not every check passed:\n${states.join('\n')}\nterminal:\n${await page.locator('[data-terminal="1"] .xterm-rows').innerText()}`);
    await page.waitForTimeout(500);
  }
}

describe('the multi-stage lab, every block clicked at once', () => {
  // A data dir of its own: the image template for this lab does not exist yet (a cold start).
  const data = tempDir('cq');
  const owner = uniqueOwner('clickq');
  let server: ServerProc;
  before(async () => {
    server = await startServerProc({ dataDir: data, ownerId: owner, env: { DB_FILE: path.join(data, 'db.sqlite') } });
  });
  after(async () => {
    await server?.stop();
    await cleanupOwner(data, owner);
  });

  test('cold template: the clicks queue while the template is built, then every check passes', { timeout: 420_000 }, async () => {
    const page = await newLabPage(browser);
    const n = await clickEverythingAtOnce(page, server.url + '/labs/03-multi-stage');
    assert.ok(n >= 4);
    // Still starting (the template takes seconds to build): the blocks say they are queued.
    assert.equal(await page.locator('pre[data-term][data-run-state="queued"]').count(), n, 'every clicked block is queued');
    assert.match(await page.locator('#run-queue-status').innerText(), new RegExp(`${n} blocks queued`));
    assert.equal(await page.locator('pre[data-term][data-run-state="queued"]').nth(2).getAttribute('data-queue-pos'), '3');
    await screenshot(page, 'click-queue-cold-queued');
    await waitAllChecksPass(page, 360_000);
    await waitQueueDrained(page, n);
    await screenshot(page, 'click-queue-cold-passed');
    // What the learner reads must be what they would type: the underscore is drawn, not clipped.
    assert.ok((await underscoreInk(page, 1, 'CGO_ENABLED=0 go build')) > 0, 'the "_" of CGO_ENABLED has ink on screen');
    // Each block ran once: one build, one named container (a second `docker run --name` would fail).
    const text = await page.locator('[data-terminal="1"] .xterm-rows').innerText();
    assert.doesNotMatch(text, /already in use/);
    await page.context().close();
  });

  test('warm template: a new learner clicks everything before the page script has even run, every check passes', { timeout: 300_000 }, async () => {
    const page = await newLabPage(browser);
    // A slow link: the app bundle is held back until every block has been clicked (a fixed delay
    // would race the clicks on a busy machine), so every click lands before the page script runs.
    let appServed = false;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    await page.route('**/assets/app.js', async (route) => {
      await held;
      appServed = true;
      await route.continue();
    });
    const n = await clickEverythingAtOnce(page, server.url + '/labs/03-multi-stage');
    assert.equal(appServed, false, 'the clicks landed before the app bundle was served');
    assert.equal(await page.locator('pre[data-term][data-run-state="queued"]').count(), n, 'the page marks every early click as queued');
    release();
    await screenshot(page, 'click-queue-warm-queued');
    await waitAllChecksPass(page, 240_000);
    await waitQueueDrained(page, n);
    await page.context().close();
  });
});

describe('two terminals, and a reload while starting', () => {
  const labsDir = tempDir('cq-labs');
  fs.writeFileSync(
    path.join(labsDir, 'two.md'),
    [
      '---', 'title: Two terminals at once', 'terms: 2', '---', '## Both nodes', '',
      '```.term1', 'echo one > order.txt', '```', '',
      '```.term2', 'echo two > order.txt', '```', '',
      '```.term1', 'echo three >> order.txt', '```', '',
      '```.term2', 'echo four >> order.txt; echo "node2 has $(paste -sd, order.txt)"', '```', '',
      '```.term1', 'echo five >> order.txt', '```', '',
      '```check', '- file: order.txt', '  matches: "^one\\nthree\\nfive\\n?$"', '```', '',
    ].join('\n'),
  );
  const data = path.join(ROOT, '.data');
  const owner = uniqueOwner('clickq2');
  let server: ServerProc;
  before(async () => {
    server = await startServerProc({ dataDir: data, labsDir, ownerId: owner, env: { DB_FILE: path.join(tempDir('cq2-db'), 'db.sqlite') } });
  });
  after(async () => {
    await server?.stop();
    await cleanupOwner(data, owner);
  });

  test('.term1 and .term2 blocks clicked at once, the page reloaded while starting: each runs once, in order, on its own node', { timeout: 240_000 }, async () => {
    const page = await newLabPage(browser);
    const n = await clickEverythingAtOnce(page, server.url + '/labs/two');
    assert.equal(n, 5);
    await page.reload({ waitUntil: 'commit' });
    await page.locator('pre[data-term]').first().waitFor();
    await screenshot(page, 'click-queue-two-terms-after-reload');
    await waitForTermText(page, 2, /node2 has two,four/, 180_000);
    await waitAllChecksPass(page, 60_000);
    const t1 = await page.locator('[data-terminal="1"] .xterm-rows').innerText();
    assert.equal(t1.match(/echo three >> order\.txt/g)?.length, 1, `term1 shows each block once:\n${t1}`);
    await page.context().close();
  });
});
