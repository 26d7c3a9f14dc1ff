// Issue 18, as a curious learner would try it: in a lab's terminal, a privileged container asks for
// the host's core_pattern and debugfs. The run works (privileged inside the sandbox's own user
// namespace) and the screen shows both refused; the learner's root is an unprivileged host uid.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { launchBrowser, newLabPage, screenshot, startServerProc, tempDir, typeInTerminal, uniqueOwner, waitForTermText, ROOT, type ServerProc } from './harness.ts';
import { cleanupOwner } from './cleanup.ts';
import { freePort } from './redis.test-support.ts';
import { defaultDataDir } from '../server/config.ts';

const DATA = defaultDataDir(ROOT);
const labsDir = tempDir('boundary-labs');
fs.writeFileSync(path.join(labsDir, 'curious.md'), '---\ntitle: A curious learner\nimages: [busybox]\nterms: 1\n---\n## Look around\n\n```.term1\ndocker version --format {{.Server.Version}}\n```\n');
const owner = uniqueOwner('boundary');
let browser: Browser;
let server: ServerProc | undefined;

before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
  await cleanupOwner(DATA, owner);
});

test('a privileged run typed into a lab terminal is confined: core_pattern and debugfs refused on screen', { timeout: 300_000 }, async () => {
  const port = await freePort();
  server = await startServerProc({ labsDir, dataDir: DATA, ownerId: owner, port, env: { DB_FILE: path.join(tempDir('boundary-db'), 'db.sqlite') } });
  assert.match(server.output(), /sandbox boundary: a user namespace per sandbox/);
  const page = await newLabPage(browser);
  await page.goto(`${server.url}/labs/curious`);
  await page.waitForSelector('[data-term-state="1"][data-state="ready"]', { timeout: 180_000 });
  await waitForTermText(page, 1, /\[node1\] \/root \$/);
  // Quotes kept simple: the terminal is typed into, as a learner types.
  await typeInTerminal(
    page,
    1,
    // Every marker is computed, so the echoed command line itself cannot match what the output must say.
    "docker run --rm --privileged busybox sh -c 'mkdir /p; mount -t proc proc /p; (exec 3>>/p/sys/kernel/core_pattern) 2>/dev/null && echo CORE-OPEN-$((1+1)) || echo core-refused-$((2+2)); mount -t debugfs d /mnt 2>/dev/null && echo DEBUGFS-ON-$((1+1)) || echo debugfs-refused-$((2+2)); echo priv-$((6*7))'\n",
  );
  const text = await waitForTermText(page, 1, /priv-42/, 120_000);
  await screenshot(page, 'boundary-privileged');
  assert.match(text, /core-refused-4/);
  assert.match(text, /debugfs-refused-4/);
  assert.doesNotMatch(text, /CORE-OPEN-2|DEBUGFS-ON-2/);
  await typeInTerminal(page, 1, "echo host-uid-$(awk '{print $2}' /proc/self/uid_map)\n");
  await waitForTermText(page, 1, /host-uid-1048576/);
});
