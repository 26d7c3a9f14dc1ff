// Issue 22, the README's TLS recipe end to end: Debian's Caddy terminates HTTPS with a certificate
// from a CA made here, in front of the server (TRUST_PROXY, PORT_HOST_PATTERN, LOG_FORMAT=json).
// Chromium trusts that CA through its certificate database and maps the test domain to 127.0.0.1
// (--host-resolver-rules; no DNS). A learner over HTTPS gets a Secure cookie, a terminal over a
// wss:// WebSocket, a Copy button that fills the clipboard (a secure-context API), and a port link
// answered on its own per-port host through the same proxy.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { screenshot, startServerProc, tempDir, typeInTerminal, uniqueOwner, waitForTermText, ARTIFACTS, ROOT, type ServerProc } from './harness.ts';
import { cleanupOwner } from './cleanup.ts';
import { freePort } from './redis.test-support.ts';
import { caddyfile, gotoSteady, homeTrusting, labPageLoaded, makeTestCa, startCaddy, type Caddy } from './tls.test-support.ts';
import { defaultDataDir } from '../server/config.ts';
import { labKey } from '../server/http/port-hosts.ts';

const DATA = defaultDataDir(ROOT);
const owner = uniqueOwner('tls');
const SITE = 'lab.lablab.test';
const PORTS = 'ports.lablab.test';
const labsDir = tempDir('tls-labs');
fs.mkdirSync(path.join(labsDir, 'tls'));
fs.writeFileSync(
  path.join(labsDir, 'tls', 'lab.md'),
  ['---', 'title: Over TLS', 'terms: 1', '---', '## Serve a page', '', '```.term1', 'mkdir -p /tmp/www && echo "served-over-tls $((6*7))" > /tmp/www/index.html && (cd /tmp/www && python3 -m http.server 8091 >/dev/null 2>&1 &)', '```', '', '[Open the page](/){:data-term=".term1"}{:data-port="8091"}', ''].join('\n'),
);

let server: ServerProc;
let caddy: Caddy;
let browser: Browser;
let httpsPort: number;

before(async () => {
  const tls = tempDir('tls-ca');
  const ca = await makeTestCa(tls, [SITE, `*.${PORTS}`]);
  server = await startServerProc({
    labsDir, dataDir: DATA, ownerId: owner,
    env: { DB_FILE: path.join(tempDir('tls-db'), 'db.sqlite'), TRUST_PROXY: 'loopback', PORT_HOST_PATTERN: `p{port}-{node}-{lab}.${PORTS}`, LOG_FORMAT: 'json' },
  });
  httpsPort = await freePort();
  caddy = await startCaddy(tempDir('tls-caddy'), caddyfile({ site: SITE, portHosts: `*.${PORTS}`, httpsPort, upstream: new URL(server.url).host, cert: ca.cert, key: ca.key }), httpsPort);
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    env: { ...process.env, HOME: await homeTrusting(tempDir('tls-home'), ca.caCert) },
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run', `--host-resolver-rules=MAP ${SITE} 127.0.0.1, MAP *.${PORTS} 127.0.0.1`],
  });
});

after(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  if (server) fs.writeFileSync(path.join(ARTIFACTS, 'tls-proxy-server.log'), server.output());
  if (caddy) fs.writeFileSync(path.join(ARTIFACTS, 'tls-proxy-caddy.log'), caddy.output());
  await browser?.close();
  await caddy?.stop();
  await server?.stop();
  await cleanupOwner(DATA, owner);
});

test('behind Caddy over HTTPS: Secure cookie, a terminal over wss, Copy to the clipboard, a port link on its own host', { timeout: 300_000 }, async () => {
  const origin = `https://${SITE}:${httpsPort}`;
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
  const page = await ctx.newPage();
  const sockets: string[] = [];
  page.on('websocket', (ws) => sockets.push(ws.url()));
  const problems: string[] = [];
  page.on('requestfailed', (r) => problems.push(`${r.url()}: ${r.failure()?.errorText}`));
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  try {
    // Trusted for real: a certificate error would stop this navigation.
    await gotoSteady(page, `${origin}/labs/tls`, labPageLoaded(page));
    assert.ok(await page.evaluate(() => window.isSecureContext), 'the page is a secure context');
    await page.waitForSelector('[data-term-state="1"][data-state="ready"]', { timeout: 150_000 });
    await waitForTermText(page, 1, /\[node1\] \/root \$/);

    // The learner cookie came out Secure: the server believed Caddy's X-Forwarded-Proto.
    const learner = (await ctx.cookies(origin)).find((c) => c.name === 'lab_learner');
    assert.ok(learner, 'a learner cookie');
    assert.equal(learner.secure, true, 'Secure behind TLS');
    assert.equal(learner.httpOnly, true);

    // The terminal, through a WebSocket over TLS.
    await typeInTerminal(page, 1, 'echo "tls-$((6*7))"\n');
    await waitForTermText(page, 1, /tls-42/);
    assert.ok(sockets.some((u) => u.startsWith(`wss://${SITE}:${httpsPort}/socket.io/`)), `socket.io upgraded to wss through Caddy; sockets: ${sockets.join(', ')}`);

    // Copy puts the block on the clipboard.
    const block = page.locator('pre[data-term="1"]');
    await block.locator('xpath=..').locator('[data-copy-block]').click();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    assert.equal(copied, (await block.innerText()).trim());
    assert.match(copied, /python3 -m http\.server 8091/);

    // Run it, then open its port link: handed over to the port's own host, answered through Caddy.
    await block.click();
    const [popup] = await Promise.all([page.waitForEvent('popup'), page.locator('a.port-link').click()]);
    await popup.waitForLoadState();
    const portHost = `p8091-1-${labKey('tls')}.${PORTS}`;
    // Followed again (the same link: the hand-over to the port host, then the app) when the network
    // changed under Chromium on the way, or the server in the sandbox was not up yet.
    for (let i = 0; !(await popup.locator('body').innerText().catch(() => '')).includes('served-over-tls 42'); i++) {
      assert.ok(i < 40, `the port host never showed the page: ${popup.url()} ${await popup.locator('body').innerText().catch(() => '')}`);
      await popup.waitForTimeout(500);
      await gotoSteady(popup, `${origin}/labs/tls/port/1/8091/`);
    }
    assert.equal(new URL(popup.url()).origin, `https://${portHost}:${httpsPort}`, 'the app on its own HTTPS origin');
    const portCookie = (await ctx.cookies(`https://${portHost}:${httpsPort}`)).find((c) => c.name === 'lab_port');
    assert.equal(portCookie?.secure, true, 'the port host cookie is Secure too');
    await screenshot(popup, 'tls-port-host');
    await screenshot(page, 'tls-lab');
  } catch (err) {
    await screenshot(page, 'tls-lab-failed').catch(() => {});
    console.log(server.output().slice(-4000));
    console.log(problems.join('\n'));
    throw err;
  }

  // LOG_FORMAT=json: the server's lines are objects, and the session's ready line names its session and sandbox.
  const lines = server.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, string>);
  const named = lines.find((l) => l.session && l.sandbox && /: ready on sandbox/.test(l.msg ?? ''));
  assert.ok(named, 'a log object with session and sandbox ids');
  assert.match(named.sandbox!, /^[0-9a-f]{12}$/);
  assert.equal(named.level, 'info');
  await ctx.close();
});
