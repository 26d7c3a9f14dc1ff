import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Demuxer, frame, stdoutOf } from './demux.ts';
import { nextFreeSubnet } from './subnets.ts';
import { idempotent } from './networks.ts';

test('demuxer splits stdout and stderr across arbitrary chunk boundaries', () => {
  const all = Buffer.concat([frame(1, 'hello '), frame(2, 'oops'), frame(1, 'world')]);
  const d = new Demuxer(1024);
  for (let i = 0; i < all.length; i += 3) d.push(all.subarray(i, i + 3));
  assert.equal(d.stdout(), 'hello world');
  assert.equal(d.stderr(), 'oops');
});

test('demuxer caps each stream and counts what it dropped', () => {
  const d = new Demuxer(4);
  d.push(Buffer.concat([frame(1, 'abcdef'), frame(1, 'gh'), frame(2, 'xy')]));
  assert.equal(d.stdout(), 'abcd');
  assert.equal(d.dropped[1], 4);
  assert.equal(d.stderr(), 'xy');
});

test('subnet pool hands out the first free /28 and skips overlaps', () => {
  assert.deepEqual(nextFreeSubnet('10.213.0.0/16', 28, []), { subnet: '10.213.0.0/28', gateway: '10.213.0.1' });
  assert.deepEqual(nextFreeSubnet('10.213.0.0/16', 28, ['10.213.0.0/28', '10.213.0.16/28']), {
    subnet: '10.213.0.32/28',
    gateway: '10.213.0.33',
  });
  // an unrelated, larger network overlapping the start of the pool
  assert.equal(nextFreeSubnet('10.213.0.0/16', 28, ['10.213.0.0/24'])?.subnet, '10.213.1.0/28');
  assert.equal(nextFreeSubnet('10.213.0.0/30', 30, ['10.213.0.0/30']), null);
});

test('template keys depend on the image set, not its order, and change with any image id', async () => {
  const { templateKey, normalizeImageName } = await import('./templates.ts');
  assert.equal(normalizeImageName('busybox'), 'busybox:latest');
  assert.equal(normalizeImageName('golang:1.19'), 'golang:1.19');
  assert.equal(normalizeImageName('localhost:5000/app'), 'localhost:5000/app:latest');
  const a = { name: 'golang:1.19', id: 'sha256:1' };
  const b = { name: 'busybox:latest', id: 'sha256:2' };
  assert.equal(templateKey([a, b], 'sbx'), templateKey([b, a], 'sbx'));
  assert.notEqual(templateKey([a, b], 'sbx'), templateKey([a, { ...b, id: 'sha256:3' }], 'sbx'));
  assert.notEqual(templateKey([a, b], 'sbx'), templateKey([a], 'sbx'));
  assert.notEqual(templateKey([a, b], 'sbx'), templateKey([a, b], 'sbx2'));
});

test('stdoutOf streams stdout payloads across chunk boundaries and drops stderr', async () => {
  const t = stdoutOf();
  const out: Buffer[] = [];
  t.on('data', (b: Buffer) => out.push(b));
  const all = Buffer.concat([frame(1, 'HTTP/1.0 200 OK\r\n'), frame(2, 'noise'), frame(1, 'body')]);
  for (let i = 0; i < all.length; i += 5) t.write(all.subarray(i, i + 5));
  t.end();
  await new Promise((r) => t.on('end', r));
  assert.equal(Buffer.concat(out).toString(), 'HTTP/1.0 200 OK\r\nbody');
});

test('teardown counts gone, unchanged and "removal already in progress" as done, and nothing else', async () => {
  const fail = (statusCode: number, message: string) => Promise.reject(Object.assign(new Error(message), { statusCode }));
  await idempotent(fail(404, 'no such container'));
  await idempotent(fail(304, 'container already stopped'));
  await idempotent(fail(409, '(HTTP code 409) unexpected - removal of container f4fc45d872d1 is already in progress'));
  await assert.rejects(idempotent(fail(409, 'You cannot remove a running container')), /running/);
  await assert.rejects(idempotent(fail(500, 'engine broke')), /broke/);
});
