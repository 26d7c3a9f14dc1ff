// Issue 11, several engines: the server runs on the host engine and a second dockerd started by
// this test (ENGINES_FILE). With the host engine drained, a learner lands on engine 2 (its sandbox
// image shipped there first), clicks a block and sees the checks pass; then engine 2 is drained in
// the file and the next learner lands on the host engine: sessions on both, none on a drained one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newLabPage, screenshot, startServerProc, tempDir, uniqueOwner, waitForTermText, ROOT, type ServerProc } from './harness.ts';
import { cleanupOwner } from './cleanup.ts';
import { defaultDataDir } from '../server/config.ts';
import { createDockerSandboxDriver } from '../sandbox/driver/index.ts';
import { startSecondEngine, type SecondEngine } from '../sandbox/driver/second-engine.test-support.ts';
import { ENGINES_TUNING } from '../server/engines.ts';

const DATA = defaultDataDir(ROOT);
const owner = uniqueOwner('engines');
const labsDir = tempDir('engines-labs');
fs.writeFileSync(
  path.join(labsDir, 'where.md'),
  '---\ntitle: Where am I\nterms: 1\n---\n## Leave a mark\n\n```.term1\necho engine-two-ok > mark.txt; hostname\n```\n\n```check\n- file: mark.txt\n  contains: engine-two-ok\n- run: cat mark.txt\n  output: engine-two-ok\n```\n',
);
const enginesFile = path.join(tempDir('engines-conf'), 'engines.yaml');
let engine2: SecondEngine;
let server: ServerProc | undefined;
let browser: Browser;

function writeEngines(drained: 'local' | 'e2'): void {
  fs.writeFileSync(enginesFile, `engines:\n  - url: unix:///var/run/docker.sock\n    drain: ${drained === 'local'}\n  - id: e2\n    url: unix://${engine2.socketPath}\n    drain: ${drained === 'e2'}\n`);
}

const sandboxesOn = async (docker: import('dockerode'), ownerId: string) =>
  (await docker.listContainers({ filters: { label: [`io.lablab.owner=${ownerId}`, 'io.lablab.kind=sandbox'] } })).length;

before(async () => {
  engine2 = await startSecondEngine({ dir: path.join(DATA, 'test-engines', `w${process.pid}`), name: `w${process.pid}` });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await cleanupOwner(DATA, owner);
  if (engine2) {
    const d2 = createDockerSandboxDriver({ dataDir: path.join(DATA, 'e', 'e2'), ownerId: `${owner}-e2`, docker: { socketPath: engine2.socketPath }, log: () => {} });
    await d2.reap({ now: Number.MAX_SAFE_INTEGER, isLive: () => false }).catch(() => {});
    await d2.dispose();
    await engine2.stop();
  }
});

async function openLab(): Promise<Page> {
  const page = await newLabPage(browser);
  await page.goto(`${server!.url}/labs/where`);
  await page.waitForSelector('[data-term-state="1"][data-state="ready"]', { timeout: 90_000 }).catch(async (err) => {
    console.log(server!.output());
    console.log(await page.locator('body').innerText().catch(() => ''));
    throw err;
  });
  await waitForTermText(page, 1, /\[node1\] \/root \$/);
  return page;
}

test('two engines: a learner on engine 2 clicks and passes; a drained engine gets no new sessions', { timeout: 480_000 }, async () => {
  writeEngines('local');
  server = await startServerProc({ labsDir, dataDir: DATA, ownerId: owner, env: { DB_FILE: path.join(tempDir('engines-db'), 'db.sqlite'), ENGINES_FILE: enginesFile } });
  assert.match(server.output(), /sandbox engines: local \(unix:\/\/\/var\/run\/docker\.sock, drained\), e2 \(/);
  const Docker = (await import('dockerode')).default;
  const host = new Docker({ socketPath: '/var/run/docker.sock' });

  const page = await openLab();
  try {
    assert.equal(await sandboxesOn(engine2.docker, `${owner}-e2`), 1, 'the first learner runs on engine 2');
    assert.equal(await sandboxesOn(host, owner), 0, 'the drained host engine got nothing');
    await page.locator('pre[data-term="1"]').click();
    await waitForTermText(page, 1, /node1\s*\n/);
    await page.locator('section[data-step-id] [data-check-status]:not([data-check-status="pass"])').first().waitFor({ state: 'detached', timeout: 60_000 });
    assert.equal(await page.locator('[data-check-status="pass"]').count(), 2);
  } catch (err) {
    await screenshot(page, 'engines-e2');
    throw err;
  }

  // Drain engine 2 in the file; the server re-reads it at its next probe.
  writeEngines('e2');
  await new Promise((r) => setTimeout(r, ENGINES_TUNING.probeEveryMs + 3_000));
  const second = await openLab();
  try {
    assert.equal(await sandboxesOn(host, owner), 1, 'the second learner runs on the host engine');
    assert.equal(await sandboxesOn(engine2.docker, `${owner}-e2`), 1, 'the drained engine 2 got no new session');
  } catch (err) {
    await screenshot(second, 'engines-local');
    throw err;
  }
});
