// The Files tab: a lab link opens a file in the editor, a save makes a file check pass by itself,
// an edit in the terminal is offered as a reload, drag-and-drop upload lands where `ls` sees it,
// and a file and a folder download.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newLabPage, screenshot, startServerProc, tempDir, typeInTerminal, uniqueOwner, waitForTermText, ROOT, type ServerProc } from './harness.ts';
import { cleanupOwner } from './cleanup.ts';
import { defaultDataDir } from '../server/config.ts';

const DATA = defaultDataDir(ROOT);
const owner = uniqueOwner('files');
const labsDir = tempDir('files-labs');
fs.mkdirSync(path.join(labsDir, 'edit', 'app'), { recursive: true });
fs.writeFileSync(path.join(labsDir, 'edit', 'Dockerfile'), 'FROM scratch\nCOPY hello /\n');
fs.writeFileSync(path.join(labsDir, 'edit', 'app', 'main.go'), 'package main\n\nfunc main() {}\n');
fs.writeFileSync(
  path.join(labsDir, 'edit', 'lab.md'),
  [
    '---', 'title: Edit a file', 'terms: 1', '---', '## Change the base image', '',
    'Open the [Dockerfile](#){:data-open="Dockerfile"} and make it start `FROM busybox`.', '',
    '```check', '- file: Dockerfile', '  contains: FROM busybox', '```', '',
  ].join('\n'),
);
let server: ServerProc;
let browser: Browser;

before(async () => {
  server = await startServerProc({ labsDir, dataDir: DATA, ownerId: owner, env: { DB_FILE: path.join(tempDir('files-db'), 'db.sqlite') } });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await cleanupOwner(DATA, owner);
});

async function editorText(page: Page): Promise<string> {
  return page.locator('#editor-host .cm-content').innerText();
}

test('editor: open from the lab, save, the file check passes; a terminal edit is offered as a reload', { timeout: 240_000 }, async () => {
  const page = await newLabPage(browser);
  await page.goto(`${server.url}/labs/edit`);
  await page.waitForSelector('[data-term-state="1"][data-state="ready"]', { timeout: 120_000 });
  await waitForTermText(page, 1, /\[node1\] \/root \$/);
  const check = page.locator('[data-check-id="s1.c1"] [data-check-status]');

  await page.locator('a.open-file[data-open="Dockerfile"]').click();
  await page.waitForSelector('#files-pane:not([hidden]) .cm-content');
  assert.match(await editorText(page), /FROM scratch/);
  assert.equal(await page.locator('#editor-file').innerText(), '/root/Dockerfile');
  // Highlighting: the Dockerfile mode marks FROM as a keyword.
  assert.ok(await page.locator('#editor-host .cm-line span').count() > 0, 'the Dockerfile is highlighted');

  // Edit: replace the first line.
  await page.locator('#editor-host .cm-content').click();
  await page.keyboard.press('Control+Home');
  await page.keyboard.press('Shift+End');
  await page.keyboard.type('FROM busybox');
  assert.equal(await page.locator('#editor-save').innerText(), 'Save*');
  await page.keyboard.press('Control+s');
  await page.waitForSelector('#editor-state[data-kind="ok"]');
  // No click on "Check": the save itself re-checks pending file checks.
  await page.waitForSelector('[data-check-id="s1.c1"] [data-check-status="pass"]', { timeout: 15_000 });
  assert.equal(await check.getAttribute('data-check-status'), 'pass');
  await screenshot(page, 'editor-pane');

  // The terminal sees the saved file.
  await page.locator('[data-tab="terminals"]').click();
  await typeInTerminal(page, 1, 'head -1 Dockerfile\r');
  await waitForTermText(page, 1, /head -1 Dockerfile\s*\n\s*FROM busybox/);

  // An edit in the terminal while the file is open: offered, not applied, not overwritten.
  await typeInTerminal(page, 1, 'echo "# edited in the terminal" >> Dockerfile\r');
  await page.locator('[data-tab="files"]').click();
  await page.waitForSelector('#editor-banner:not([hidden])', { timeout: 10_000 });
  assert.match(await page.locator('#editor-banner').innerText(), /changed in the sandbox/);
  assert.doesNotMatch(await editorText(page), /edited in the terminal/);
  await screenshot(page, 'editor-reload-offer');
  // Saving now would overwrite the terminal's edit: refused, with the choice offered.
  await page.locator('#editor-host .cm-content').click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type('\n# mine');
  await page.locator('#editor-save').click();
  await page.waitForSelector('#editor-state[data-kind="error"]');
  await page.getByRole('button', { name: 'Reload from the sandbox' }).click();
  await page.waitForFunction(() => document.querySelector('#editor-host .cm-content')?.textContent?.includes('edited in the terminal'));
  assert.doesNotMatch(await editorText(page), /# mine/);
  await page.context().close();
});

test('upload by drag-and-drop onto the terminal and the tree; download a file and a folder; strangers refused', { timeout: 240_000 }, async () => {
  const page = await newLabPage(browser);
  await page.goto(`${server.url}/labs/edit`);
  await page.waitForSelector('[data-term-state="1"][data-state="ready"]', { timeout: 120_000 });
  await waitForTermText(page, 1, /\[node1\] \/root \$/);

  // A drop carries File objects; build them in the page as a drag from the desktop would.
  const drop = async (selector: string, files: Array<{ name: string; text: string }>) => {
    const dt = await page.evaluateHandle((fs) => {
      const d = new DataTransfer();
      for (const f of fs) d.items.add(new File([f.text], f.name, { type: 'text/plain' }));
      return d;
    }, files);
    await page.dispatchEvent(selector, 'dragover', { dataTransfer: dt });
    await page.dispatchEvent(selector, 'drop', { dataTransfer: dt });
  };
  await drop('[data-terminal="1"]', [{ name: 'dropped.txt', text: 'dropped on the terminal\n' }]);
  // The bar reaches 100 % when the browser has sent the bytes; the server's answer comes after.
  await page.locator('#upload-progress', { hasText: 'Uploaded 1 of 1' }).waitFor({ timeout: 60_000 });
  await typeInTerminal(page, 1, 'ls; cat dropped.txt\r');
  await waitForTermText(page, 1, /dropped\.txt[\s\S]*dropped on the terminal/);

  // Onto a folder of the tree: into that folder.
  await page.locator('[data-tab="files"]').click();
  await page.waitForSelector('.file-row[data-path="app"]');
  await drop('.file-row[data-path="app"] > .file-name', [{ name: 'extra.go', text: 'package extra\n' }]);
  await page.waitForSelector('.file-row[data-path="app/extra.go"]', { timeout: 20_000 });
  await page.locator('[data-tab="terminals"]').click();
  await typeInTerminal(page, 1, 'ls app\r');
  await waitForTermText(page, 1, /extra\.go\s+main\.go/);

  // Downloads: a file as its bytes, a folder as a tar.
  await page.locator('[data-tab="files"]').click();
  const [fileDl] = await Promise.all([page.waitForEvent('download'), page.locator('.file-row[data-path="dropped.txt"] .file-download').click()]);
  assert.equal(fileDl.suggestedFilename(), 'dropped.txt');
  assert.equal(fs.readFileSync((await fileDl.path())!, 'utf8'), 'dropped on the terminal\n');
  const [dirDl] = await Promise.all([page.waitForEvent('download'), page.locator('.file-row[data-path="app"] > .file-download').click()]);
  assert.equal(dirDl.suggestedFilename(), 'app.tar');
  const tar = fs.readFileSync((await dirDl.path())!);
  assert.ok(tar.includes(Buffer.from('app/extra.go')) && tar.includes(Buffer.from('package extra')), 'the tar holds the folder');

  // Traversal through the HTTP API is refused too.
  const bad = await page.request.get(`${server.url}/labs/edit/files/1/download?path=${encodeURIComponent('../etc/passwd')}`);
  assert.equal(bad.status(), 403);
  // Another learner gets nothing.
  const stranger = await newLabPage(browser);
  const res = await stranger.request.get(`${server.url}/labs/edit/files/1/download?path=dropped.txt`);
  assert.equal(res.status(), 404);
  assert.doesNotMatch(await res.text(), /dropped on the terminal/);
  const put = await stranger.request.put(`${server.url}/labs/edit/files/1/write?path=Dockerfile`, { data: 'FROM evil', headers: { origin: server.url } });
  assert.equal(put.status(), 404);
  await stranger.context().close();
  await page.context().close();
});
