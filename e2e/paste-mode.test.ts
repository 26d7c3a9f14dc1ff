// A block sent to a running program, not to the shell's prompt, goes in as plain keystrokes. A program
// that asked the terminal for bracketed paste while it starts (readline-based programs do) but is not
// reading yet would otherwise echo the paste's brackets: ^[[200~echo …^[[201~ on the learner's screen,
// and then read them as part of the command.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { launchBrowser, newLabPage, screenshot, startServerProc, tempDir, termText, uniqueOwner, waitForTermText, ROOT, type ServerProc } from './harness.ts';
import { cleanupOwner } from './cleanup.ts';

const labsDir = tempDir('paste-labs');
fs.writeFileSync(
  path.join(labsDir, 'starting.md'),
  [
    '---', 'title: A program still starting', 'images: [busybox]', '---', '## Start it', '',
    // Says it is starting (in words its own command line does not show), switches the terminal into bracketed-paste mode, reads nothing for a while,
    // then becomes a shell that reads what was typed meanwhile.
    '```.term1', `docker run --rm -it busybox sh -c 'printf "%s-%s\\033[?2004h\\n" inner starting; sleep 6; echo inner-ready; exec sh'`, '```', '',
    '```.term1', 'echo second-block', '```', '',
    '```.term1', 'echo third-block', '```', '',
  ].join('\n'),
);
const data = path.join(ROOT, '.data');
const owner = uniqueOwner('paste');
let browser: Browser;
let server: ServerProc;

before(async () => {
  browser = await launchBrowser();
  server = await startServerProc({ dataDir: data, labsDir, ownerId: owner, env: { DB_FILE: path.join(tempDir('paste-db'), 'db.sqlite') } });
});
after(async () => {
  await browser?.close();
  await server?.stop();
  await cleanupOwner(data, owner);
});

test('blocks sent to a program that is still starting show no [200~ and run once it reads them', { timeout: 360_000 }, async () => {
  const page = await newLabPage(browser);
  await page.goto(server.url + '/labs/starting');
  const blocks = page.locator('pre[data-term]');
  await blocks.first().click();
  await waitForTermText(page, 1, /^inner-starting/m, 240_000).catch((e: Error) => {
    throw new Error(`${e.message}\nserver log:\n${server.output().slice(-3000)}`);
  });
  // The program runs: the next block queues behind it. Clicked again, it is sent at once; the third
  // goes in by itself after the queue's quiet time. Neither is at a prompt.
  await blocks.nth(1).click();
  assert.equal(await blocks.nth(1).getAttribute('data-run-state'), 'queued');
  await blocks.nth(1).click();
  await blocks.nth(2).click();
  const screen = await waitForTermText(page, 1, /^third-block\s*$/m, 60_000);
  await screenshot(page, 'paste-mode-running-program');
  assert.match(screen, /^second-block\s*$/m, `the inner shell ran the second block:\n${screen}`);
  assert.doesNotMatch(await termText(page, 1), /\[20[01]~/, 'no paste brackets on screen');
  await page.context().close();
});
