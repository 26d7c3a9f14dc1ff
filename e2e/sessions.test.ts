// Issue 6 in the browser: the same shell after a reload and after the server is killed and
// restarted, two terminals that reach each other by name, expiry, and the capacity queue.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { launchBrowser, newLabPage, screenshot, startServerProc, tempDir, typeInTerminal, uniqueOwner, waitForTermText, ROOT, type ServerProc } from './harness.ts';
import { cleanupOwner } from './cleanup.ts';
import { defaultDataDir } from '../server/config.ts';
import { createDockerSandboxDriver } from '../sandbox/driver/index.ts';

const DATA = defaultDataDir(ROOT);
let browser: Browser;
const labsDir = tempDir('session-labs');
fs.writeFileSync(path.join(labsDir, 'shell.md'), '---\ntitle: A shell\nterms: 1\n---\n## Look around\n\n```.term1\nhostname\n```\n');
fs.writeFileSync(path.join(labsDir, 'two-nodes.md'), '---\ntitle: Two nodes\nterms: 2\n---\n## Ping\n\n```.term1\nping -c 1 node2\n```\n\n```.term2\nping -c 1 node1\n```\n');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function sandboxesOf(owner: string): Promise<number> {
  const driver = createDockerSandboxDriver({ dataDir: DATA, ownerId: owner, log: () => {} });
  try {
    return (await driver.list()).length;
  } finally {
    await driver.dispose();
  }
}

before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

describe('one learner, one shell', () => {
  const owner = uniqueOwner('sessions');
  const db = path.join(tempDir('sessions-db'), 'db.sqlite');
  let server: ServerProc;
  let port: number;

  before(async () => {
    port = await freePort();
    server = await startServerProc({ labsDir, dataDir: DATA, ownerId: owner, port, env: { DB_FILE: db } });
  });
  after(async () => {
    await server?.stop();
    await cleanupOwner(DATA, owner);
  });

  test('a reload keeps the same shell and the earlier output; so does a killed and restarted server', { timeout: 180_000 }, async () => {
    const page = await newLabPage(browser);
    await page.goto(`${server.url}/labs/shell`);
    await page.waitForSelector('[data-term-state="1"][data-state="ready"]', { timeout: 120_000 });
    await waitForTermText(page, 1, /\[node1\] \/root \$/);
    await typeInTerminal(page, 1, 'export LAB_MARK=kept-4242; echo "first-$LAB_MARK"\n');
    await waitForTermText(page, 1, /first-kept-4242/);

    await page.reload();
    await page.waitForSelector('[data-term-state="1"][data-state="ready"]', { timeout: 30_000 });
    await waitForTermText(page, 1, /first-kept-4242/, 10_000); // replayed scrollback
    await typeInTerminal(page, 1, 'echo "after-reload-$LAB_MARK"\n');
    await waitForTermText(page, 1, /after-reload-kept-4242/);

    // Pull the plug on the server. The sandbox keeps running; the page waits and re-attaches.
    await server.kill();
    await page.waitForSelector('#session-status[data-phase="reconnecting"]', { timeout: 20_000 });
    server = await startServerProc({ labsDir, dataDir: DATA, ownerId: owner, port, env: { DB_FILE: db } });
    await page.waitForSelector('#session-status[data-phase="ready"]', { timeout: 60_000 });
    await waitForTermText(page, 1, /after-reload-kept-4242/, 20_000);
    await typeInTerminal(page, 1, 'echo "after-restart-$LAB_MARK"\n');
    await waitForTermText(page, 1, /after-restart-kept-4242/);
    assert.equal(await sandboxesOf(owner), 1, 'still the one sandbox');
    await screenshot(page, 'session-after-restart');
    await page.context().close();
  });

  test('a two-terminal lab gets two sandboxes that reach each other by name', { timeout: 180_000 }, async () => {
    const page = await newLabPage(browser);
    await page.goto(`${server.url}/labs/two-nodes`);
    await page.waitForSelector('[data-term-state="1"][data-state="ready"]', { timeout: 120_000 });
    await page.waitForSelector('[data-term-state="2"][data-state="ready"]', { timeout: 30_000 });
    await page.locator('pre[data-term="1"]').click();
    await waitForTermText(page, 1, /1 packets transmitted, 1 received/, 30_000);
    await page.locator('pre[data-term="2"]').click();
    await waitForTermText(page, 2, /1 packets transmitted, 1 received/, 30_000);
    await typeInTerminal(page, 1, 'hostname\n');
    await waitForTermText(page, 1, /^node1$/m);
    await screenshot(page, 'two-nodes');
    await page.context().close();
  });
});

test('expiry destroys the sandbox and tells the learner', { timeout: 180_000 }, async () => {
  const owner = uniqueOwner('expiry');
  const server = await startServerProc({ labsDir, dataDir: DATA, ownerId: owner, env: { DB_FILE: path.join(tempDir('expiry-db'), 'db.sqlite'), SESSION_TTL: '25s' } });
  try {
    const page = await newLabPage(browser);
    await page.goto(`${server.url}/labs/shell`);
    await page.waitForSelector('[data-term-state="1"][data-state="ready"]', { timeout: 120_000 });
    assert.equal(await sandboxesOf(owner), 1);
    await page.waitForSelector('.overlay[data-kind="expired"]', { timeout: 60_000 });
    assert.match(await page.locator('[data-session-message]').innerText(), /time limit/);
    await screenshot(page, 'expired');
    const deadline = Date.now() + 20_000;
    while ((await sandboxesOf(owner)) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    assert.equal(await sandboxesOf(owner), 0, 'the sandbox is gone');
    await page.context().close();
  } finally {
    await server.stop();
    await cleanupOwner(DATA, owner);
  }
});

test('past the capacity limit a learner sees the queue, then gets a sandbox when one frees up', { timeout: 180_000 }, async () => {
  const owner = uniqueOwner('capacity');
  const server = await startServerProc({ labsDir, dataDir: DATA, ownerId: owner, env: { DB_FILE: path.join(tempDir('capacity-db'), 'db.sqlite'), MAX_SANDBOXES: '1', MAX_SESSIONS_PER_ADDRESS: '10' } });
  try {
    const first = await newLabPage(browser);
    await first.goto(`${server.url}/labs/shell`);
    await first.waitForSelector('[data-term-state="1"][data-state="ready"]', { timeout: 120_000 });

    const second = await newLabPage(browser); // another learner: a new browser context, a new cookie
    await second.goto(`${server.url}/labs/shell`);
    await second.waitForSelector('.overlay[data-kind="queue"]', { timeout: 20_000 });
    assert.match(await second.locator('.overlay-box').innerText(), /full[\s\S]*number 1 in the queue/);
    await screenshot(second, 'queue');

    first.on('dialog', (d) => void d.accept());
    await first.locator('#session-end').click();
    await first.waitForSelector('.overlay[data-kind="ended"]', { timeout: 20_000 });

    // The queued page updates by itself.
    await second.waitForSelector('[data-term-state="1"][data-state="ready"]', { timeout: 120_000 });
    assert.equal(await second.locator('#overlay').isHidden(), true);
    await first.context().close();
    await second.context().close();
  } finally {
    await server.stop();
    await cleanupOwner(DATA, owner);
  }
});
