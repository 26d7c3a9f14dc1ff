// A "Try it" link in the browser: PWD's /?stack=…&stack_name=… opens a playground and the server
// fetches the Compose file (from a local HTTP server here, allowed explicitly by address) with its
// build context's Dockerfile; `docker compose up -d` builds and starts it; its port link answers.
// Refused links (a private address, a redirect to one, a host not allowed) open the playground with the reason on the page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { launchBrowser, newLabPage, startServerProc, tempDir, uniqueOwner, ROOT, type ServerProc } from './harness.ts';
import { cleanupOwner } from './cleanup.ts';
import { defaultDataDir } from '../server/config.ts';

const DATA = defaultDataDir(ROOT);
const FILES: Record<string, string> = {
  '/demo/docker-compose.yml': 'services:\n  web:\n    build: ./web\n    ports:\n      - "8080:8080"\n',
  '/demo/web/Dockerfile': 'FROM busybox\nRUN mkdir /www && echo "try-it-$((6*7))-works" > /www/index.html\nEXPOSE 8080\nCMD ["httpd", "-f", "-p", "8080", "-h", "/www"]\n',
};
let browser: Browser;
let files: http.Server;
let stackUrl: string;
let server: ServerProc;
const owner = uniqueOwner('try-it');

before(async () => {
  files = http.createServer((req, res) => {
    if (req.url === '/to-private') return void res.writeHead(302, { location: 'https://10.1.2.3/docker-compose.yml' }).end();
    const body = FILES[req.url ?? ''];
    if (body) res.end(body);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
  stackUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}/demo/docker-compose.yml`;
  browser = await launchBrowser();
  server = await startServerProc({
    labsDir: tempDir('try-labs'), dataDir: DATA, ownerId: owner,
    env: { DB_FILE: `${tempDir('try-db')}/db.sqlite`, PLAY_IMAGES: 'busybox', STACK_URL_ALLOW: 'http://127.0.0.1,https://', STACK_URL_ALLOW_ADDRESSES: '127.0.0.1/32' },
  });
});
after(async () => {
  await browser?.close();
  await server?.stop();
  files?.close();
  await cleanupOwner(DATA, owner);
});

test('a PWD-style Try-it link builds and starts the Compose app; its port link answers', { timeout: 1_200_000 }, async () => {
  const page = await newLabPage(browser);
  await page.goto(`${server.url}/?stack=${encodeURIComponent(stackUrl)}&stack_name=demo`);
  assert.match(page.url(), /\/play\?stack=/);
  await page.waitForSelector('#play-stack-state[data-state="done"], #play-stack-state[data-state="failed"]', { timeout: 900_000 });
  assert.equal(await page.locator('#play-stack-state').getAttribute('data-state'), 'done', await page.locator('#play-stack-state').innerText());
  const link = page.locator('[data-node-ports="1"] a[data-port="8080"]');
  await link.waitFor({ timeout: 60_000 });
  const res = await page.request.get(new URL((await link.getAttribute('href'))!, server.url).href);
  assert.equal(res.status(), 200);
  assert.match(await res.text(), /try-it-42-works/);
  await page.context().close();
});

test('refused links still open a playground, and say why the stack was refused', { timeout: 120_000 }, async () => {
  const page = await newLabPage(browser);
  const refusal = async (stack: string) => {
    await page.goto(`${server.url}/play?stack=${encodeURIComponent(stack)}`);
    return page.locator('#play-stack-error').innerText();
  };
  // Refused before any connection: nothing is sent to these addresses.
  assert.match(await refusal('https://10.1.2.3/docker-compose.yml'), /was not fetched: 10\.1\.2\.3 is a private, loopback or link-local address/);
  assert.match(await refusal(stackUrl.replace('/demo/docker-compose.yml', '/to-private')), /https:\/\/10\.1\.2\.3\/docker-compose\.yml was not fetched: 10\.1\.2\.3 is a private/);
  assert.match(await refusal('http://127.0.0.1.stacks.invalid/x.yml'), /only from URLs starting with "http:\/\/127\.0\.0\.1" or "https:\/\/"/);
  assert.equal(await page.locator('#play-add').count(), 1, 'the playground opened');
  await page.context().close();
});
