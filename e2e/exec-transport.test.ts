// Issue 11, the terminal through the engine API: with TERMINAL_TRANSPORT=exec a clicked block, a
// reload and a killed and restarted server all reach the same shell, as over the local dtach path,
// and no process on this host is involved.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { launchBrowser, newLabPage, screenshot, startServerProc, tempDir, typeInTerminal, uniqueOwner, waitForTermText, ROOT, type ServerProc } from './harness.ts';
import { cleanupOwner } from './cleanup.ts';
import { defaultDataDir } from '../server/config.ts';
import { createDockerSandboxDriver } from '../sandbox/driver/index.ts';

const DATA = defaultDataDir(ROOT);
const labsDir = tempDir('exec-labs');
fs.writeFileSync(path.join(labsDir, 'shell.md'), '---\ntitle: A shell\nterms: 1\n---\n## Mark it\n\n```.term1\nexport LAB_MARK=exec-$((40+2)); echo "set-$LAB_MARK"\n```\n');
const owner = uniqueOwner('exec');
const env = { DB_FILE: path.join(tempDir('exec-db'), 'db.sqlite'), TERMINAL_TRANSPORT: 'exec' };
let browser: Browser;
let server: ServerProc | undefined;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** The host's own processes started on this sandbox's terminal socket (a `dtach -a <socket>`: neither transport runs one). */
function hostClientsOf(socketPath: string): string[] {
  const out = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(socketPath));
}

before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
  await cleanupOwner(DATA, owner);
});

test('TERMINAL_TRANSPORT=exec: click, reload and a server kill -9 + restart keep the same shell', { timeout: 240_000 }, async () => {
  const port = await freePort();
  server = await startServerProc({ labsDir, dataDir: DATA, ownerId: owner, port, env });
  const page = await newLabPage(browser);
  await page.goto(`${server.url}/labs/shell`);
  await page.waitForSelector('[data-term-state="1"][data-state="ready"]', { timeout: 120_000 });
  await waitForTermText(page, 1, /\[node1\] \/root \$/);
  assert.match(server.output(), /terminal through an engine exec/);

  await page.locator('pre[data-term="1"]').click();
  await waitForTermText(page, 1, /set-exec-42/);

  const driver = createDockerSandboxDriver({ dataDir: DATA, ownerId: owner, log: () => {} });
  try {
    const [ref] = await driver.list();
    assert.ok(ref, 'one sandbox');
    assert.deepEqual(hostClientsOf(ref.terminalSocket), [], 'no host process on the socket');
    const clients = async () => Number((await driver.exec(ref, ['bash', '-c', "pgrep -f '^lablab-attach-' | wc -l"])).stdout.trim());
    assert.equal(await clients(), 1, 'one attach client in the sandbox');

    await page.reload();
    await page.waitForSelector('[data-term-state="1"][data-state="ready"]', { timeout: 30_000 });
    await waitForTermText(page, 1, /set-exec-42/, 10_000); // replayed scrollback
    await typeInTerminal(page, 1, 'echo "after-reload-$LAB_MARK"\n');
    await waitForTermText(page, 1, /after-reload-exec-42/);

    await server.kill();
    await page.waitForSelector('#session-status[data-phase="reconnecting"]', { timeout: 20_000 });
    server = await startServerProc({ labsDir, dataDir: DATA, ownerId: owner, port, env });
    await page.waitForSelector('#session-status[data-phase="ready"]', { timeout: 60_000 });
    await waitForTermText(page, 1, /after-reload-exec-42/, 20_000);
    await typeInTerminal(page, 1, 'echo "after-restart-$LAB_MARK"\n');
    await waitForTermText(page, 1, /after-restart-exec-42/);
    // The killed server's attach client was ended by the new server's attach.
    assert.equal(await clients(), 1, 'still one attach client in the sandbox');
    assert.equal((await driver.list()).length, 1, 'still the one sandbox');
    assert.deepEqual(hostClientsOf(ref.terminalSocket), [], 'still no host process on the socket');
  } finally {
    await driver.dispose();
  }
  await screenshot(page, 'exec-transport-after-restart');
  await page.context().close();
});

test('TERMINAL_TRANSPORT=auto (the default) keeps the local dtach path for a sandbox on this host', { timeout: 180_000 }, async () => {
  const autoOwner = uniqueOwner('exec-auto');
  const srv = await startServerProc({ labsDir, dataDir: DATA, ownerId: autoOwner, env: { DB_FILE: path.join(tempDir('auto-db'), 'db.sqlite') } });
  const driver = createDockerSandboxDriver({ dataDir: DATA, ownerId: autoOwner, log: () => {} });
  try {
    const page = await newLabPage(browser);
    await page.goto(`${srv.url}/labs/shell`);
    await page.waitForSelector('[data-term-state="1"][data-state="ready"]', { timeout: 120_000 });
    await page.locator('pre[data-term="1"]').click();
    await waitForTermText(page, 1, /set-exec-42/);
    assert.match(srv.output(), /terminal through the dtach socket/);
    const [ref] = await driver.list();
    // The server itself is the dtach client: no process on this host, none in the sandbox.
    assert.deepEqual(hostClientsOf(ref!.terminalSocket), [], 'no host process on the socket');
    assert.equal(Number((await driver.exec(ref!, ['bash', '-c', "pgrep -f '^lablab-attach-' | wc -l"])).stdout.trim()), 0, 'no exec attach');
    await page.context().close();
  } finally {
    await driver.dispose();
    await srv.stop();
    await cleanupOwner(DATA, autoOwner);
  }
});
