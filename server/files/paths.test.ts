import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attachment, confinePath, insideRoot, isText, listeningPorts, parseListing } from './paths.ts';
import { AppError } from '../errors.ts';

test('confinePath cleans relative paths and refuses absolute ones, "..", and control characters', () => {
  assert.equal(confinePath(''), '');
  assert.equal(confinePath('./app//main.go'), 'app/main.go');
  assert.equal(confinePath('a/./b/'), 'a/b');
  assert.equal(confinePath('..hidden/x..y'), '..hidden/x..y');
  for (const bad of ['../etc/passwd', 'a/../../etc', 'a/..', '..', '/etc/passwd', '/root/x', 'a\0b', 'a\nb', 42]) {
    assert.throws(() => confinePath(bad), (e: unknown) => e instanceof AppError && (e.code === 'forbidden' || e.code === 'bad_request'), String(bad));
  }
  assert.throws(() => confinePath('../x'), /climbs out of \/root/);
  assert.throws(() => confinePath('/etc'), /absolute/);
});

test('insideRoot is about path segments, not prefixes', () => {
  assert.ok(insideRoot('/root'));
  assert.ok(insideRoot('/root/a/b'));
  assert.ok(!insideRoot('/rootkit'));
  assert.ok(!insideRoot('/etc/passwd'));
  assert.ok(!insideRoot('/'));
});

test('isText: UTF-8 without NUL is text; NUL or invalid UTF-8 is binary', () => {
  assert.ok(isText(Buffer.from('FROM scratch\nCOPY é /\n')));
  assert.ok(!isText(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x00, 0x01])));
  assert.ok(!isText(Buffer.from([0xff, 0xfe, 0x41])));
});

test('parseListing: folders first, names with spaces and tabs kept', () => {
  const out = 'f\t12\t1700000000.5\tb.txt\0d\t4096\t1700000001.0\tsrc\0f\t3\t1.0\twith\ttab\0l\t7\t1.0\tlink\0';
  assert.deepEqual(parseListing(out), [
    { name: 'src', type: 'dir', size: 4096, mtime: 1700000001000 },
    { name: 'b.txt', type: 'file', size: 12, mtime: 1700000000500 },
    { name: 'link', type: 'link', size: 7, mtime: 1000 },
    { name: 'with\ttab', type: 'file', size: 3, mtime: 1000 },
  ]);
});

test('listeningPorts reads LISTEN sockets from /proc/net/tcp{,6}, without Docker\'s embedded DNS', () => {
  const tcp = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0',
    '   1: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0',
    '   2: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0 100 0 0 10 0',
    '   3: 0B00007F:92F3 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5 1 0 100 0 0 10 0',
    '   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4 1',
  ].join('\n');
  assert.deepEqual(listeningPorts(tcp), [80, 8080]);
});

test('attachment names survive quotes and non-ASCII', () => {
  assert.equal(attachment('a"b é.txt'), `attachment; filename="a_b _.txt"; filename*=UTF-8''a%22b%20%C3%A9.txt`);
});
