// Issue 20 in the browser: /play starts with one node; nodes are added and removed while it runs and
// reach each other by name; the 3+2 template forms a five-node swarm that `docker node ls` shows;
// the node cap and a full server say so; a reload reconnects every node; a node's CPU figure follows a busy loop.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newLabPage, screenshot, startServerProc, tempDir, typeInTerminal, uniqueOwner, waitForTermText, ROOT, type ServerProc } from './harness.ts';
import { cleanupOwner } from './cleanup.ts';
import { defaultDataDir } from '../server/config.ts';
import { createDockerSandboxDriver } from '../sandbox/driver/index.ts';

const DATA = defaultDataDir(ROOT);
let browser: Browser;
const labsDir = tempDir('play-labs');

async function sandboxesOf(owner: string): Promise<number> {
  const driver = createDockerSandboxDriver({ dataDir: DATA, ownerId: owner, log: () => {} });
  try {
    return (await driver.list()).length;
  } finally {
    await driver.dispose();
  }
}

const button = (page: Page, name: string) => page.getByRole('button', { name, exact: true });

/** Clicks Add node until node n connects; a node that could not start (a loaded host) says so and is clicked again, as a person would. */
async function addNode(page: Page, n: number): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await button(page, 'Add node').click();
    await page.waitForFunction((k) => !!document.querySelector(`[data-term-state="${k}"][data-state="ready"]`) || !(document.querySelector('#play-message') as HTMLElement).hidden, n, { timeout: 400_000 });
    const msg = await page.locator('#play-message').innerText();
    if (!(await page.locator('#play-message').isVisible())) return nodeReady(page, n);
    if (attempt >= 3 || !/could not start/.test(msg)) throw new Error(`node${n}: ${msg}`);
  }
}

async function nodeReady(page: Page, n: number, timeout = 300_000): Promise<void> {
  try {
    await page.waitForSelector(`[data-term-state="${n}"][data-state="ready"]`, { state: 'attached', timeout });
  } catch (err) {
    throw new Error(`node${n} never connected; the page says:\n${await page.locator('body').innerText()}\n${(err as Error).message}`);
  }
}

async function selectNode(page: Page, n: number): Promise<void> {
  await button(page, `node${n}`).click();
  await page.waitForSelector(`[data-terminal="${n}"]:not([hidden])`);
}

/** Polls a node's CPU figure (as the page shows it) until `ok` holds. */
async function waitForCpu(page: Page, n: number, ok: (cpu: number) => boolean, timeoutMs = 90_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = NaN;
  while (Date.now() < deadline) {
    last = Number(await page.locator(`[data-node-stats="${n}"]`).getAttribute('data-cpu'));
    if (Number.isFinite(last) && ok(last)) return last;
    await page.waitForTimeout(500);
  }
  throw new Error(`node${n}'s CPU figure never met the condition; last ${last}`);
}

before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

describe('the playground', () => {
  const owner = uniqueOwner('play');
  let server: ServerProc;

  before(async () => {
    server = await startServerProc({ labsDir, dataDir: DATA, ownerId: owner, env: { DB_FILE: `${tempDir('play-db')}/db.sqlite`, PLAY_IMAGES: 'busybox' } });
  });
  after(async () => {
    await server?.stop();
    await cleanupOwner(DATA, owner);
  });

  test('one node, two added by name, the 3+2 template, the node cap, a removal, live CPU figures', { timeout: 1_500_000 }, async () => {
    const page = await newLabPage(browser);
    page.on('dialog', (d) => void d.accept());
    // Durations are printed, never asserted (the machine is shared).
    const took: Record<string, number> = {};
    let t0 = Date.now();
    const lap = (name: string) => {
      took[name] = Date.now() - t0;
      t0 = Date.now();
    };
    await page.goto(`${server.url}/play`);
    await nodeReady(page, 1);
    await waitForTermText(page, 1, /\[node1\] \/root \$/);
    lap('openToNode1Ms');

    await addNode(page, 2);
    lap('addNode2Ms');
    await addNode(page, 3);
    lap('addNode3Ms');
    assert.equal(await page.locator('#play-count').getAttribute('data-nodes'), '3');
    // node3 is selected after its add; it reaches node1 by name on the session network.
    await typeInTerminal(page, 3, 'ping -c 1 node1 && echo "reached-$((40+2))"\n');
    await waitForTermText(page, 3, /reached-42/);

    t0 = Date.now();
    await button(page, '3 managers and 2 workers').click();
    await page.waitForSelector(`#play-progress[data-state="done"]`, { timeout: 900_000 });
    await nodeReady(page, 5);
    lap('templateTo5NodesMs');
    await selectNode(page, 1);
    await typeInTerminal(page, 1, 'clear; docker node ls\n');
    const ls = await waitForTermText(page, 1, /(Ready\s+Active[^\n]*\n?[\s\S]*){5}/, 30_000);
    for (const n of [1, 2, 3, 4, 5]) assert.match(ls, new RegExp(`node${n}\\b`), ls);
    assert.equal((ls.match(/Leader|Reachable/g) ?? []).length, 3, `three managers:\n${ls}`);
    await screenshot(page, 'playground-swarm');

    // Five is the cap: the page says so.
    await button(page, 'Add node').click();
    await page.waitForSelector('#play-message:not([hidden])');
    assert.match(await page.locator('#play-message').innerText(), /already has 5 nodes, the most one session may have/);

    await selectNode(page, 5);
    t0 = Date.now();
    await button(page, 'Remove node').click();
    await page.waitForSelector('[data-terminal="5"]', { state: 'detached', timeout: 60_000 });
    lap('removeNodeMs');
    assert.equal(await page.locator('#play-count').getAttribute('data-nodes'), '4');
    // And its sandbox is gone from the engine.
    for (let i = 0; i < 60 && (await sandboxesOf(owner)) > 4; i++) await new Promise((r) => setTimeout(r, 1000));
    assert.equal(await sandboxesOf(owner), 4);

    // A reload joins the running playground: each node's terminal connects again with its screen.
    t0 = Date.now();
    await page.reload();
    for (const n of [1, 2, 3, 4]) await nodeReady(page, n, 120_000);
    lap('reloadTo4NodesMs');
    assert.equal(await page.locator('[data-terminal="5"]').count(), 0);
    await waitForTermText(page, 1, /Leader/);

    // Live figures: node2's CPU climbs while `yes` runs and falls when it stops.
    await selectNode(page, 2);
    t0 = Date.now();
    await typeInTerminal(page, 2, 'yes > /dev/null\n');
    const busy = await waitForCpu(page, 2, (c) => c >= 20);
    lap('cpuRiseMs');
    await typeInTerminal(page, 2, '\x03');
    const idle = await waitForCpu(page, 2, (c) => c < 10);
    lap('cpuFallMs');
    assert.ok(busy > idle, `busy ${busy}% then idle ${idle}%`);
    assert.match(await page.locator('[data-node-stats="2"]').innerText(), /mem \d+ MiB \/ [\d.]+ GiB · disk /);

    console.log(JSON.stringify({ playground: took, busyCpu: busy, idleCpu: idle }));
    await button(page, 'End session').click();
    await page.waitForSelector('#session-status[data-phase="ended"]');
    for (let i = 0; i < 60 && (await sandboxesOf(owner)) > 0; i++) await new Promise((r) => setTimeout(r, 1000));
    assert.equal(await sandboxesOf(owner), 0);
    await page.context().close();
  });
});

describe('a full server', () => {
  const owner = uniqueOwner('play-full');
  let server: ServerProc;

  before(async () => {
    server = await startServerProc({ labsDir, dataDir: DATA, ownerId: owner, env: { DB_FILE: `${tempDir('play-full-db')}/db.sqlite`, PLAY_IMAGES: 'busybox', MAX_SANDBOXES: '2', MAX_SESSIONS_PER_ADDRESS: '4' } });
  });
  after(async () => {
    await server?.stop();
    await cleanupOwner(DATA, owner);
  });

  test('a node past MAX_SANDBOXES is refused with a sentence; nodes count against it', { timeout: 900_000 }, async () => {
    const page = await newLabPage(browser);
    await page.goto(`${server.url}/play`);
    await nodeReady(page, 1);
    await addNode(page, 2);
    await button(page, 'Add node').click();
    await page.waitForSelector('#play-message:not([hidden])');
    assert.match(await page.locator('#play-message').innerText(), /The server is full: all 2 sandboxes are in use/);
    // A second learner queues: the playground's two nodes hold both sandboxes.
    const other = await newLabPage(browser);
    await other.goto(`${server.url}/play`);
    await other.waitForSelector('[data-queue-position="1"]', { timeout: 120_000 });
    await other.context().close();
    await page.context().close();
  });
});
