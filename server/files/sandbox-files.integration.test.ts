// The file service against a real sandbox: save, conflict, binary and size refusals, upload,
// download, and path traversal (../, absolute, symlinks out of /root) refused in each of them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import * as tarStream from 'tar-stream';
import { createDockerSandboxDriver } from '../../sandbox/driver/index.ts';
import type { SandboxRef } from '../../sandbox/driver/types.ts';
import { cleanupOwner } from '../../e2e/cleanup.ts';
import { defaultDataDir } from '../config.ts';
import { AppError } from '../errors.ts';
import { createSandboxFiles } from './sandbox-files.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DATA = defaultDataDir(ROOT);
const owner = `it-files-${process.pid}-${Date.now().toString(36)}`;
const driver = createDockerSandboxDriver({ dataDir: DATA, ownerId: owner });
const files = createSandboxFiles({ driver, archive: driver, maxUploadBytes: 1024 * 1024 });
let ref: SandboxRef;

const sh = async (script: string) => (await driver.exec(ref, ['bash', '-c', script])).stdout;
const bytes = async (s: Readable) => {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
};
const refused = (code: string, re: RegExp) => (e: unknown) => e instanceof AppError && e.code === code && re.test(e.message);

before(async () => {
  ref = await driver.create({ sessionId: `${owner}-s`, node: 1, images: [], limits: { memoryMiB: 512, pids: 256, cpuShares: 512, diskGiB: 1 }, expiresAt: Date.now() + 3_600_000 });
  await driver.waitReady(ref, { images: [] });
  await sh('mkdir -p /root/app && printf "FROM scratch\\n" > /root/Dockerfile && printf "\\x7fELF\\x00\\x01" > /root/app/bin && head -c 2000000 /dev/zero | tr "\\0" a > /root/big.txt && ln -s /etc /root/out && ln -s /etc/hostname /root/host-link && ln -s Dockerfile /root/inner-link && cp /etc/hostname /tmp/hostname.orig');
});

after(async () => {
  await driver.dispose();
  await cleanupOwner(DATA, owner);
});

test('open, save with the version it was opened at, and a change made meanwhile is a conflict', async () => {
  const opened = await files.read(ref, 'Dockerfile');
  assert.equal(opened.content, 'FROM scratch\n');
  const saved = await files.write(ref, 'Dockerfile', 'FROM busybox\n', opened.version);
  assert.equal(await sh('cat /root/Dockerfile'), 'FROM busybox\n');
  assert.equal(await files.version(ref, 'Dockerfile'), saved.version);
  await sh('echo "# from the terminal" >> /root/Dockerfile');
  assert.notEqual(await files.version(ref, 'Dockerfile'), saved.version);
  await assert.rejects(files.write(ref, 'Dockerfile', 'FROM nothing\n', saved.version), /changed in the sandbox since you opened it/);
  assert.match(await sh('cat /root/Dockerfile'), /from the terminal/);
  // Saying "overwrite" (no version) does.
  await files.write(ref, 'Dockerfile', 'FROM nothing\n', '');
  assert.equal(await sh('cat /root/Dockerfile'), 'FROM nothing\n');
  // A symlink inside /root is followed to its target, which is inside too.
  assert.equal((await files.read(ref, 'inner-link')).content, 'FROM nothing\n');
  assert.equal(await files.version(ref, 'gone.txt'), null);
});

test('binary and oversized files are refused for editing, and still download', async () => {
  await assert.rejects(files.read(ref, 'app/bin'), refused('bad_request', /binary file.*download/));
  await assert.rejects(files.read(ref, 'big.txt'), refused('bad_request', /2\.0 MB; the editor opens files up to 1 MB/));
  const d = await files.download(ref, 'app/bin');
  assert.equal(d.kind, 'file');
  assert.deepEqual(await bytes(d.stream), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x00, 0x01]));
});

test('listing, upload into a new folder, and a folder downloads as a tar', async () => {
  const l = await files.list(ref, '');
  assert.deepEqual(l.entries.filter((e) => e.type === 'dir').map((e) => e.name), ['app']);
  assert.ok(l.entries.some((e) => e.name === 'Dockerfile' && e.type === 'file'));
  const body = Buffer.from('hello upload\n');
  await files.upload(ref, 'app/new/up.txt', body.length, Readable.from([body]));
  assert.equal(await sh('cat /root/app/new/up.txt; stat -c %U /root/app/new/up.txt'), 'hello upload\nroot\n');
  await assert.rejects(files.upload(ref, 'x.bin', 2 * 1024 * 1024, Readable.from([])), /uploads are limited to 1 MB/);

  const d = await files.download(ref, 'app');
  assert.equal(d.kind, 'dir');
  assert.equal(d.name, 'app.tar');
  const names: string[] = [];
  const extract = tarStream.extract();
  extract.on('entry', (h, s, next) => {
    names.push(h.name);
    s.on('end', next);
    s.resume();
  });
  const done = new Promise<void>((r) => extract.on('finish', () => r()));
  d.stream.pipe(extract as never);
  await done;
  assert.deepEqual(names.sort(), ['app/', 'app/bin', 'app/new/', 'app/new/up.txt']);
});

test('path traversal is refused in save, upload and download: "..", absolute paths, symlinks out of /root', async () => {
  const forbidden = refused('forbidden', /\.\.|absolute|outside \/root/);
  for (const p of ['../etc/passwd', 'app/../../etc/passwd', '/etc/passwd']) {
    await assert.rejects(files.write(ref, p, 'x', ''), forbidden, `save ${p}`);
    await assert.rejects(files.upload(ref, p, 1, Readable.from([Buffer.from('x')])), forbidden, `upload ${p}`);
    await assert.rejects(files.download(ref, p), forbidden, `download ${p}`);
    await assert.rejects(files.read(ref, p), forbidden, `open ${p}`);
  }
  // Symlinks resolved inside the sandbox: a folder link and a file link that lead out.
  const viaLink = refused('forbidden', /leads outside \/root \(to \/etc/);
  await assert.rejects(files.write(ref, 'out/lablab-evil', 'x', ''), viaLink);
  await assert.rejects(files.write(ref, 'host-link', 'evil\n', ''), viaLink);
  await assert.rejects(files.upload(ref, 'out/lablab-evil', 1, Readable.from([Buffer.from('x')])), viaLink);
  await assert.rejects(files.upload(ref, 'host-link', 1, Readable.from([Buffer.from('x')])), viaLink);
  await assert.rejects(files.download(ref, 'out/passwd'), viaLink);
  await assert.rejects(files.download(ref, 'out'), viaLink);
  await assert.rejects(files.download(ref, 'host-link'), viaLink);
  await assert.rejects(files.read(ref, 'out/hostname'), viaLink);
  await assert.rejects(files.list(ref, 'out'), viaLink);
  assert.equal(await sh('ls /etc/lablab-evil 2>&1 >/dev/null | grep -c "No such"; cmp /etc/hostname /tmp/hostname.orig && echo same'), '1\nsame\n');
});
