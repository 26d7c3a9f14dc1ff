// The lab pictures route, through the real app on port 0, with raw request paths (a URL parser
// would tidy the traversal attempts away before they reach the server).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { createApp, type AppDeps } from './app.ts';
import { loadLabs } from '../labs/load.ts';
import type { Lab } from '../labs/types.ts';

// 1×1 PNG.
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415408d763f8cfc000000301010018dd8db00000000049454e44ae426082', 'hex');
const SVG = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script><rect width="4" height="4"/></svg>';

let tmp: string;
let server: http.Server;
let port: number;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-test-assets-'));
  const labs = path.join(tmp, 'labs');
  const lab = path.join(labs, 'pic-lab');
  fs.mkdirSync(path.join(lab, 'images', 'dir.png'), { recursive: true });
  fs.writeFileSync(path.join(lab, 'lab.md'), '---\ntitle: Pictures\n---\n## One\n\n![a pixel](images/a.png)\n\n<img src="{{site.baseurl}}/images/b.svg" alt="vector">\n');
  fs.writeFileSync(path.join(lab, 'images', 'a.png'), PNG);
  fs.writeFileSync(path.join(lab, 'images', 'b.svg'), SVG);
  fs.writeFileSync(path.join(lab, 'images', 'with space.png'), PNG);
  fs.writeFileSync(path.join(lab, '.hidden.png'), PNG);
  fs.writeFileSync(path.join(lab, 'Dockerfile'), 'FROM scratch\n');
  fs.mkdirSync(path.join(labs, 'other-lab', 'images'), { recursive: true });
  fs.writeFileSync(path.join(labs, 'other-lab', 'lab.md'), '# Other\n');
  fs.writeFileSync(path.join(labs, 'other-lab', 'images', 'o.png'), PNG);
  fs.writeFileSync(path.join(labs, 'single.md'), '# Single\n');
  fs.mkdirSync(path.join(tmp, 'outside'));
  fs.writeFileSync(path.join(tmp, 'outside', 'secret.png'), PNG);
  fs.symlinkSync(path.join(tmp, 'outside', 'secret.png'), path.join(lab, 'link-out.png'));
  fs.symlinkSync(path.join(tmp, 'outside'), path.join(lab, 'dir-out'));
  fs.symlinkSync(path.join(lab, 'lab.md'), path.join(lab, 'link-to-md.png'));
  fs.symlinkSync(path.join(lab, 'images', 'a.png'), path.join(lab, 'link-in.png'));

  const loaded = (await loadLabs(labs)).labs;
  const byId = new Map(loaded.map((l) => [l.id, l]));
  const registry = { all: () => loaded, get: (id: string) => byId.get(id), problems: () => [], reload: async () => {}, dispose: () => {} };
  // Only what the page and asset routes touch; the rest would be a bug if reached.
  const deps = {
    driver: {}, config: {}, labs: registry, secret: 'test-secret', webDistDir: path.join(tmp, 'no-dist'),
    sessions: { stats: () => ({}), liveSessions: () => [] }, store: { progress: () => [] },
    now: () => Date.now(), log: () => {},
  } as unknown as AppDeps;
  server = http.createServer(createApp(deps));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  fs.rmSync(tmp, { recursive: true, force: true });
});

function get(rawPath: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: rawPath, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('a lab serves its own pictures, typed, with a CSP that stops SVG scripts', async () => {
  const png = await get('/labs/pic-lab/assets/images/a.png');
  assert.equal(png.status, 200);
  assert.equal(png.headers['content-type'], 'image/png');
  assert.deepEqual(png.body, PNG);
  assert.equal(png.headers['x-content-type-options'], 'nosniff');
  assert.equal(png.headers['set-cookie'], undefined, 'a picture needs no learner cookie');
  const svg = await get('/labs/pic-lab/assets/images/b.svg');
  assert.equal(svg.status, 200);
  assert.match(String(svg.headers['content-type']), /^image\/svg\+xml/);
  assert.match(String(svg.headers['content-security-policy']), /^default-src 'none';.*\bsandbox\b/);
  assert.equal((await get('/labs/pic-lab/assets/images/with%20space.png')).status, 200);
  assert.equal((await get('/labs/pic-lab/assets/link-in.png')).status, 200, 'a link that stays inside the folder is fine');
});

test('the pictures a rendered lab points at are the ones the route serves', async () => {
  const page = await get('/labs/pic-lab');
  assert.equal(page.status, 200);
  const srcs = [...page.body.toString().matchAll(/<img src="([^"]+)"/g)].map((m) => m[1]!);
  assert.deepEqual(srcs, ['/labs/pic-lab/assets/images/a.png', '/labs/pic-lab/assets/images/b.svg']);
  for (const src of srcs) assert.equal((await get(src)).status, 200, src);
});

test('nothing outside the lab folder, nothing that is not a picture, nothing hidden: all 404', async () => {
  const outside = path.join(tmp, 'outside', 'secret.png');
  const refused = [
    '/labs/pic-lab/assets/../other-lab/images/o.png',
    '/labs/pic-lab/assets/images/../../other-lab/images/o.png',
    '/labs/pic-lab/assets/%2e%2e/other-lab/images/o.png',
    '/labs/pic-lab/assets/%2E%2E%2Fother-lab%2Fimages%2Fo.png',
    '/labs/pic-lab/assets/images/..%2f..%2fother-lab%2fimages%2fo.png',
    '/labs/pic-lab/assets/..%5cother-lab%5cimages%5co.png',
    '/labs/pic-lab/assets/%252e%252e/other-lab/images/o.png',
    `/labs/pic-lab/assets/${encodeURIComponent(outside)}`,
    `/labs/pic-lab/assets/${outside}`,
    `/labs/pic-lab/assets//${outside}`,
    '/labs/pic-lab/assets/link-out.png',
    '/labs/pic-lab/assets/dir-out/secret.png',
    '/labs/pic-lab/assets/link-to-md.png',
    '/labs/pic-lab/assets/lab.md',
    '/labs/pic-lab/assets/Dockerfile',
    '/labs/pic-lab/assets/.hidden.png',
    '/labs/pic-lab/assets/images/dir.png',
    '/labs/pic-lab/assets/images/missing.png',
    '/labs/pic-lab/assets/images/a.png%00.md',
    '/labs/pic-lab/assets/',
    '/labs/single/assets/single.png',
    '/labs/no-such-lab/assets/images/a.png',
  ];
  for (const p of refused) {
    const r = await get(p);
    assert.equal(r.status, 404, p);
    assert.ok(!r.body.equals(PNG), `${p} leaked a picture`);
    assert.doesNotMatch(r.body.toString(), new RegExp(tmp.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), `${p} names the disk`);
  }
});

test('a lab without a folder (single file) has no assets at all', async () => {
  const single: Lab | undefined = (await loadLabs(path.join(tmp, 'labs'))).labs.find((l) => l.id === 'single');
  assert.equal(single?.assetsDir, undefined);
});
