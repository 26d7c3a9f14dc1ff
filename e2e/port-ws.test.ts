// A learner's app that uses absolute paths and a WebSocket works through its port link, on the
// port's own origin (PORT_HOST_PATTERN); its Set-Cookie and HSTS never reach our origin; another
// learner is refused. Chromium maps the test domain to 127.0.0.1 (--host-resolver-rules).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { screenshot, startServerProc, tempDir, uniqueOwner, waitForTermText, ROOT, type ServerProc } from './harness.ts';
import { cleanupOwner } from './cleanup.ts';
import { defaultDataDir } from '../server/config.ts';
import { labKey } from '../server/http/port-hosts.ts';

const DATA = defaultDataDir(ROOT);
const owner = uniqueOwner('portws');
const labsDir = tempDir('portws-labs');
fs.mkdirSync(path.join(labsDir, 'live'));
// A stdlib-only app: a page whose CSS and script are at absolute paths, and a WebSocket echo on /ws.
fs.writeFileSync(path.join(labsDir, 'live', 'ws-app.py'), String.raw`import base64, hashlib, http.server, socketserver, struct
GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
PAGE = b'<!doctype html><html><head><link rel="stylesheet" href="/static/app.css"></head><body><h1 id="t">absolute paths</h1><p id="ws">waiting</p><script src="/static/app.js"></script></body></html>'
CSS = b'#t { color: rgb(0, 128, 0); }'
JS = b"""const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
ws.onopen = () => ws.send('ping');
ws.onmessage = (e) => { document.getElementById('ws').textContent = e.data; };
ws.onerror = () => { document.getElementById('ws').textContent = 'ws error'; };"""
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def do_GET(self):
        if self.path == '/ws' and self.headers.get('Upgrade', '').lower() == 'websocket':
            acc = base64.b64encode(hashlib.sha1((self.headers['Sec-WebSocket-Key'] + GUID).encode()).digest()).decode()
            self.send_response(101)
            self.send_header('Upgrade', 'websocket')
            self.send_header('Connection', 'Upgrade')
            self.send_header('Sec-WebSocket-Accept', acc)
            self.send_header('Set-Cookie', 'wscookie=1; Domain=ports.test')
            self.end_headers()
            self.wfile.flush()
            while True:
                h = self.rfile.read(2)
                if len(h) < 2:
                    return
                op, n = h[0] & 15, h[1] & 127
                if n == 126:
                    n = struct.unpack('>H', self.rfile.read(2))[0]
                elif n == 127:
                    n = struct.unpack('>Q', self.rfile.read(8))[0]
                mask = self.rfile.read(4) if h[1] & 128 else b'\0\0\0\0'
                data = bytes(b ^ mask[i % 4] for i, b in enumerate(self.rfile.read(n)))
                if op == 8:
                    return
                if op == 1:
                    out = ('echo:' + data.decode() + ' cookie=' + str(self.headers.get('Cookie'))).encode()[:125]
                    self.wfile.write(bytes([0x81, len(out)]) + out)
                    self.wfile.flush()
        body, ctype = {'/': (PAGE, 'text/html'), '/static/app.css': (CSS, 'text/css'), '/static/app.js': (JS, 'application/javascript')}.get(self.path, (b'', 'text/plain'))
        self.send_response(200 if body else 404)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(body)))
        self.send_header('Set-Cookie', 'appsid=42; Path=/; Domain=ports.test')
        self.send_header('Strict-Transport-Security', 'max-age=31536000; includeSubDomains')
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
S(('0.0.0.0', 8090), H).serve_forever()
`);
fs.writeFileSync(
  path.join(labsDir, 'live', 'lab.md'),
  ['---', 'title: A live app', 'terms: 1', '---', '## Run it', '', '```.term1', 'python3 ws-app.py &', '```', '', '[Open the app](/){:data-term=".term1"}{:data-port="8090"}', ''].join('\n'),
);
let server: ServerProc;
let browser: Browser;

before(async () => {
  server = await startServerProc({
    labsDir, dataDir: DATA, ownerId: owner,
    env: { DB_FILE: path.join(tempDir('portws-db'), 'db.sqlite'), PORT_HOST_PATTERN: 'p{port}-{node}-{lab}.ports.test' },
  });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run', '--host-resolver-rules=MAP *.ports.test 127.0.0.1'],
  });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await cleanupOwner(DATA, owner);
});

test('an app with absolute paths and a WebSocket works on its port origin; cookies and HSTS stay there; strangers refused', { timeout: 240_000 }, async () => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  await page.goto(`${server.url}/labs/live`);
  await page.waitForSelector('[data-term-state="1"][data-state="ready"]', { timeout: 120_000 });
  await waitForTermText(page, 1, /\[node1\] \/root \$/);
  await page.locator('pre[data-term="1"]').click();

  // Path mode carries WebSocket upgrades too (same origin as the lab page; no cookie reaches the app).
  await page.waitForTimeout(300);
  let pathWs = '';
  for (let i = 0; i < 40 && !pathWs.startsWith('echo:'); i++) {
    pathWs = await page.evaluate(() => new Promise<string>((resolve) => {
      const ws = new WebSocket(`ws://${location.host}/labs/live/port/1/8090/ws`);
      ws.onopen = () => ws.send('ping');
      ws.onmessage = (e) => resolve(String(e.data));
      ws.onerror = () => resolve('error');
    }));
    if (!pathWs.startsWith('echo:')) await page.waitForTimeout(250);
  }
  assert.equal(pathWs, 'echo:ping cookie=None');

  // The listening port shows up under the terminal, as a link.
  const chip = page.locator('[data-ports-node="1"] a[data-port="8090"]');
  await chip.waitFor({ timeout: 20_000 });
  assert.deepEqual(await page.locator('[data-ports-node="1"] a').allInnerTexts(), ['8090'], 'only the app listens');
  const [popup] = await Promise.all([page.waitForEvent('popup'), chip.click()]);
  await popup.waitForLoadState();
  const portOrigin = `p8090-1-${labKey('live')}.ports.test`;
  assert.equal(new URL(popup.url()).hostname, portOrigin, 'the app runs on its own origin');
  // The absolute /static/app.css applied, and the WebSocket on /ws echoed; our cookie never reached the app.
  await popup.waitForFunction(() => document.getElementById('ws')?.textContent?.startsWith('echo:ping'), null, { timeout: 20_000 });
  assert.equal(await popup.locator('#ws').innerText(), 'echo:ping cookie=appsid=42');
  assert.equal(await popup.locator('#t').evaluate((el) => getComputedStyle(el).color), 'rgb(0, 128, 0)');
  await screenshot(popup, 'port-websocket');

  // The app's cookie stayed host-only on its origin (Domain= removed); none on ours; no HSTS passed on.
  const cookies = await ctx.cookies();
  const app = cookies.filter((c) => c.name === 'appsid');
  assert.deepEqual(app.map((c) => c.domain), [portOrigin]);
  assert.ok(!cookies.some((c) => c.name === 'wscookie' && c.domain !== portOrigin));
  assert.ok(!cookies.some((c) => c.domain === '127.0.0.1' && c.name !== 'lab_learner'), 'nothing of the app on our origin');
  // (Requests go through Chromium: only it maps the test domain.)
  const hsts = await popup.evaluate(() => fetch(location.href).then((r) => `${r.status} ${r.headers.get('strict-transport-security')}`));
  assert.equal(hsts, '200 null');

  // Another learner: neither the port origin nor the main-site link lets them in.
  const other = await browser.newContext();
  const otherPage = await other.newPage();
  const res = await otherPage.goto(`http://${portOrigin}:${new URL(server.url).port}/`);
  assert.equal(res?.status(), 403);
  assert.doesNotMatch(await otherPage.content(), /absolute paths/);
  const viaLink = await otherPage.request.get(`${server.url}/labs/live/port/1/8090/`, { maxRedirects: 0 });
  assert.equal(viaLink.status(), 404);
  // Their WebSocket is refused as well.
  const wsResult = await otherPage.evaluate(() => new Promise<string>((resolve) => {
    const ws = new WebSocket(`ws://${location.host}/ws`);
    ws.onopen = () => resolve('open');
    ws.onerror = () => resolve('refused');
  }));
  assert.equal(wsResult, 'refused');
  await other.close();
  await ctx.close();
});
