import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { HOST_COOKIE, hostCookieValue, requireHost } from './host-auth.ts';
import { AppError } from '../errors.ts';

async function serve(token: string | undefined): Promise<{ url: string; close(): void }> {
  const app = express();
  app.get(['/host', '/metrics'], requireHost({ token, secret: 's3cret' }), (_req, res) => void res.send('host only'));
  app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(err instanceof AppError ? err.status : 500).send(err instanceof AppError ? err.message : 'error');
  });
  const server = http.createServer(app).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

test('fails closed: without a configured token even the right-looking request is refused', async (t) => {
  const s = await serve(undefined);
  t.after(() => s.close());
  const attempts: RequestInit[] = [{}, { headers: { authorization: 'Bearer undefined' } }, { headers: { cookie: `${HOST_COOKIE}=x` } }];
  for (const init of attempts) {
    assert.equal((await fetch(`${s.url}/host?token=`, init)).status, 403);
  }
});

test('the token once in the URL becomes an http-only cookie and leaves the address bar; the cookie then suffices', async (t) => {
  const s = await serve('tok');
  t.after(() => s.close());
  assert.equal((await fetch(`${s.url}/host`)).status, 403);
  assert.equal((await fetch(`${s.url}/host?token=wrong`)).status, 403);
  const first = await fetch(`${s.url}/host?token=tok&x=1`, { redirect: 'manual' });
  assert.equal(first.status, 303);
  assert.equal(first.headers.get('location'), '/host?x=1');
  const set = first.headers.get('set-cookie') ?? '';
  assert.match(set, /HttpOnly/i);
  assert.match(set, /SameSite=Strict/i);
  assert.ok(!set.includes('tok;'), 'the cookie is a MAC, not the token');
  const cookie = set.split(';')[0]!;
  assert.equal(cookie, `${HOST_COOKIE}=${hostCookieValue('tok', 's3cret')}`);
  assert.equal(await (await fetch(`${s.url}/host`, { headers: { cookie } })).text(), 'host only');
  // A cookie made with another secret (another server) is refused.
  assert.equal((await fetch(`${s.url}/host`, { headers: { cookie: `${HOST_COOKIE}=${hostCookieValue('tok', 'other')}` } })).status, 403);
});

test('a scraper sends the token as a bearer token', async (t) => {
  const s = await serve('tok');
  t.after(() => s.close());
  assert.equal((await fetch(`${s.url}/metrics`, { headers: { authorization: 'Bearer tok' } })).status, 200);
  assert.equal((await fetch(`${s.url}/metrics`, { headers: { authorization: 'Bearer tok2' } })).status, 403);
});
