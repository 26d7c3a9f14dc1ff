// Against a real HTTP server on 127.0.0.1: loopback is refused by default, so each test that should
// get through allows 127.0.0.1/32 explicitly (STACK_URL_ALLOW_ADDRESSES), as a host would for a mirror.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { allowedRanges } from './address-rules.ts';
import { fetchStack, type StackFetchRules } from './fetch-stack.ts';

const COMPOSE = 'services:\n  web:\n    image: busybox\n';
let server: http.Server;
let base: string;
let hits = 0;

before(async () => {
  server = http.createServer((req, res) => {
    hits++;
    const u = req.url ?? '/';
    if (u === '/compose.yml') return void res.end(COMPOSE);
    if (u === '/big.yml') return void res.end('#'.repeat(300 * 1024));
    if (u === '/big-chunked.yml') {
      res.writeHead(200, { 'transfer-encoding': 'chunked' });
      for (let i = 0; i < 40; i++) res.write('#'.repeat(10 * 1024));
      return void res.end();
    }
    if (u === '/to-private') return void res.writeHead(302, { location: 'http://10.0.0.1/compose.yml' }).end();
    if (u === '/to-metadata') return void res.writeHead(301, { location: 'http://169.254.169.254/latest/meta-data' }).end();
    if (u === '/hop1') return void res.writeHead(302, { location: '/hop2' }).end();
    if (u === '/hop2') return void res.writeHead(302, { location: '/compose.yml' }).end();
    if (u.startsWith('/loop')) return void res.writeHead(302, { location: `/loop${Number(u.slice(5) || 0) + 1}` }).end();
    if (u === '/slow') return; // never answers
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

const rules = (over: Partial<StackFetchRules> = {}): StackFetchRules => ({
  allowPrefixes: ['http://127.0.0.1'],
  allowedAddresses: allowedRanges(['127.0.0.1/32']),
  maxBytes: 256 * 1024,
  timeoutMs: 3_000,
  maxRedirects: 3,
  ...over,
});

test('an allowed URL is fetched, through redirects that stay allowed', async () => {
  assert.equal((await fetchStack(`${base}/compose.yml`, rules())).text, COMPOSE);
  const r = await fetchStack(`${base}/hop1`, rules());
  assert.equal(r.text, COMPOSE);
  assert.equal(r.url, `${base}/compose.yml`);
});

test('loopback is refused unless the host allowed it', async () => {
  const before = hits;
  await assert.rejects(fetchStack(`${base}/compose.yml`, rules({ allowedAddresses: undefined })), /127\.0\.0\.1 is a private, loopback or link-local address/);
  assert.equal(hits, before, 'no request was sent');
});

test('a private address, or a name that resolves to one, is refused before any connection', async () => {
  await assert.rejects(fetchStack('http://10.0.0.1/compose.yml', rules({ allowPrefixes: ['http://'] })), /10\.0\.0\.1 is a private/);
  await assert.rejects(
    fetchStack('https://stacks.example.test/compose.yml', rules({ allowPrefixes: ['https://'], resolve: async () => [{ address: '93.184.216.34', family: 4 }, { address: '192.168.1.10', family: 4 }] })),
    /stacks\.example\.test resolves to 192\.168\.1\.10 is a private/,
  );
});

test('a redirect to a private or metadata address is refused', async () => {
  await assert.rejects(fetchStack(`${base}/to-private`, rules({ allowPrefixes: ['http://'] })), /http:\/\/10\.0\.0\.1\/compose\.yml was not fetched: 10\.0\.0\.1 is a private/);
  await assert.rejects(fetchStack(`${base}/to-metadata`, rules({ allowPrefixes: ['http://'] })), /169\.254\.169\.254 is a private, loopback or link-local/);
});

test('a redirect that leaves the allowed prefixes is refused', async () => {
  await assert.rejects(fetchStack(`${base}/to-private`, rules()), /only from URLs starting with "http:\/\/127\.0\.0\.1" \(STACK_URL_ALLOW\)/);
});

test('a URL outside STACK_URL_ALLOW is refused (the default is https only)', async () => {
  await assert.rejects(fetchStack(`${base}/compose.yml`, rules({ allowPrefixes: ['https://'] })), /only from URLs starting with "https:\/\/"/);
  await assert.rejects(fetchStack('file:///etc/passwd', rules()), /only http and https/);
  await assert.rejects(fetchStack('not a url', rules()), /is not a URL/);
});

test('a prefix that names a host allows that host, not a longer name that starts the same', async () => {
  const port = new URL(base).port;
  // The name resolves to the test server: only the prefix rule stands between it and a fetch.
  const toLocal = async () => [{ address: '127.0.0.1', family: 4 }];
  await assert.rejects(fetchStack(`http://127.0.0.1.stacks.example.test:${port}/compose.yml`, rules({ resolve: toLocal })), /only from URLs starting with "http:\/\/127\.0\.0\.1"/);
  assert.equal((await fetchStack(`${base}/compose.yml`, rules({ allowPrefixes: [`${base}/`] }))).text, COMPOSE);
  assert.equal((await fetchStack(`${base}/compose.yml`, rules({ allowPrefixes: ['http://'] }))).text, COMPOSE);
});

test('too large is refused, whether it says its size or not', async () => {
  await assert.rejects(fetchStack(`${base}/big.yml`, rules()), /larger than 256 KB/);
  await assert.rejects(fetchStack(`${base}/big-chunked.yml`, rules()), /larger than 256 KB/);
});

test('too many redirects, and a server that never answers, are refused', async () => {
  await assert.rejects(fetchStack(`${base}/loop0`, rules()), /redirects more than 3 times/);
  await assert.rejects(fetchStack(`${base}/slow`, rules({ timeoutMs: 300 })), /did not arrive within 0\.3 s/);
});
