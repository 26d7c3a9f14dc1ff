// Any image a lab names, against the real host engine: one that exists nowhere gets the author message with
// the three ways to provide it; one that is only on the host engine reaches a sandbox through the template;
// one that is only a tarball in the offline folder is loaded once. Everything made here is removed in `after`.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import { SandboxError } from './errors.ts';
import { createDockerSandboxDriver } from './docker-driver.ts';
import { MissingImageError, createImageSources, missingImageMessage } from './image-sources.ts';
import { LABELS, type SandboxDriver, type SandboxRef } from './types.ts';

const docker = new Docker({ socketPath: '/var/run/docker.sock' });
const tag = randomBytes(3).toString('hex');
const owner = `test-img-${tag}`;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-img-'));
const imagesDir = path.join(dataDir, 'images');
fs.mkdirSync(imagesDir);
const HOST_ONLY = `lablab-test/host-only:${tag}`;
const TAR_ONLY = `lablab-test/tar-only:${tag}`;
const MISSING = `lablab-test/missing:${tag}`;
const logs: string[] = [];
const log = (m: string) => logs.push(m);

let driver: SandboxDriver | undefined;
const refs: SandboxRef[] = [];

/** A tiny image on the host engine, labelled as ours, made from the offline busybox. */
function buildOnHost(name: string, word: string): void {
  const ctx = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-img-ctx-'));
  try {
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), `FROM busybox\nRUN echo ${word} > /word\n`);
    // --force-rm: a failed build leaves no stopped intermediate container behind either.
    execFileSync('docker', ['build', '-q', '--force-rm', '--label', `${LABELS.managed}=1`, '--label', `${LABELS.kind}=test`, '-t', name, ctx], { env: { ...process.env, DOCKER_BUILDKIT: '0' } });
  } finally {
    fs.rmSync(ctx, { recursive: true, force: true });
  }
}

function mounts(under: string): string[] {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((m) => m.startsWith(under + '/'));
}

after(async () => {
  for (const r of refs) await driver?.destroy(r).catch((e) => console.error('cleanup', e));
  await driver?.dispose();
  // Whatever made them (a test may run alone), this run's networks carry its owner label.
  const nets = await docker.listNetworks({ filters: { label: [`${LABELS.owner}=${owner}`] } });
  for (const n of nets) await docker.getNetwork(n.Id).remove().catch((e) => console.error('cleanup', e));
  for (const name of [HOST_ONLY, TAR_ONLY]) spawnSync('docker', ['rmi', '-f', name], { stdio: 'ignore' });
  for (const m of mounts(dataDir).reverse()) spawnSync('umount', ['-l', m]);
  const loops = execFileSync('losetup', ['-a', '-l', '-n', '-O', 'NAME,BACK-FILE'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(dataDir));
  for (const l of loops) spawnSync('losetup', ['-d', l.split(/\s+/)[0]!]);
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('a lab may name any image (real engine)', { concurrency: false, timeout: 10 * 60_000 }, () => {
  test('an image that is neither built, nor a tarball, nor pullable: the author is told the three ways to provide it', async () => {
    driver = createDockerSandboxDriver({ dataDir, ownerId: owner, imagesDir, log });
    const err = await driver.create({
      sessionId: `img-${tag}`, node: 1, images: ['busybox', MISSING],
      limits: { memoryMiB: 512, pids: 256, cpuShares: 512, diskGiB: 1 }, expiresAt: Date.now() + 3_600_000,
    }).then(() => null, (e: unknown) => e);
    assert.ok(err instanceof MissingImageError, `expected a MissingImageError, got ${String(err)}`);
    assert.ok(err instanceof SandboxError);
    assert.equal(err.code, 'lab_broken');
    assert.match(err.learnerMessage, new RegExp(`This lab needs the image ${MISSING}, .*The workshop host has been told how to add it\\.`));
    assert.ok(logs.some((l) => l.startsWith(`lab image missing: image "${MISSING}"`)), 'the author message is logged');
    assert.match(err.message, new RegExp(`image "${MISSING}" is not on this host`));
    assert.match(err.message, /\(1\) build or tag it on the host/);
    assert.match(err.message, /\(2\) pull it once on the host when online: docker pull .*\(the server tried and got: /);
    assert.match(err.message, new RegExp(`\\(3\\) offline: .*docker save ${MISSING} -o lablab-test_missing_${tag}.tar and put the file in ${imagesDir}`));
    // Nothing was left behind: no sandbox container.
    const left = await docker.listContainers({ all: true, filters: { label: [`${LABELS.owner}=${owner}`] } });
    assert.equal(left.length, 0);
  });

  test('an image that is only on the host engine reaches a sandbox through the template', async () => {
    buildOnHost(HOST_ONLY, 'from-the-host');
    driver ??= createDockerSandboxDriver({ dataDir, ownerId: owner, imagesDir, log });
    const net = await driver.createSessionNetwork(`img-${tag}`);
    const progress: string[] = [];
    const ref = await driver.create({
      sessionId: `img-${tag}`, node: 1, images: [HOST_ONLY], network: net,
      limits: { memoryMiB: 512, pids: 256, cpuShares: 512, diskGiB: 1 }, expiresAt: Date.now() + 3_600_000,
      onProgress: (m) => progress.push(m),
    });
    assert.deepEqual(progress, [`Preparing this lab's images (${HOST_ONLY}) for every sandbox: a one-time step…`]);
    refs.push(ref);
    await driver.waitReady(ref, { images: [HOST_ONLY], timeoutMs: 120_000 });
    assert.ok(await driver.engine(ref).image(HOST_ONLY), 'the inner engine lists the host-only image');
    const r = await driver.exec(ref, ['docker', 'run', '--rm', '--network', 'none', HOST_ONLY, 'cat', '/word'], { timeoutMs: 60_000 });
    assert.equal(r.stdout.trim(), 'from-the-host', r.stderr);
    assert.ok(logs.some((l) => /template .*: building for .*host-only/.test(l)), 'the template build is reported');
  });

  test('an image that is only a tarball in the offline folder is loaded once, then found on the host', async () => {
    buildOnHost(TAR_ONLY, 'from-a-tarball');
    execFileSync('docker', ['save', '-o', path.join(imagesDir, `lablab-test_tar-only_${tag}.tar`), TAR_ONLY]);
    execFileSync('docker', ['rmi', TAR_ONLY]);
    const sources = createImageSources({ docker, dir: imagesDir, pull: false, log });
    assert.equal(await sources.inspect(TAR_ONLY), null);
    const progress: string[] = [];
    const got = await sources.ensure(TAR_ONLY, (m) => progress.push(m));
    assert.equal(got.via, 'tarball');
    assert.deepEqual(progress, [`Loading image ${TAR_ONLY} from the host's offline folder (once for everyone)…`]);
    assert.equal((await sources.ensure(TAR_ONLY)).via, 'present');
    assert.ok(logs.some((l) => /image tarball lablab-test_tar-only_.*: loaded in \d+ ms/.test(l)));
  });

  test('REGISTRY_MIRROR reaches the inner engine of a sandbox', async () => {
    let ref: SandboxRef | undefined;
    const mirrored = createDockerSandboxDriver({ dataDir, ownerId: owner, imagesDir, registryMirror: 'https://mirror.example.invalid', sandboxImage: process.env.SANDBOX_IMAGE || undefined, log });
    try {
      ref = await mirrored.create({
        sessionId: `img-${tag}`, node: 2, images: [], network: await mirrored.createSessionNetwork(`img-${tag}`),
        limits: { memoryMiB: 512, pids: 256, cpuShares: 512, diskGiB: 1 }, expiresAt: Date.now() + 3_600_000,
      });
      await mirrored.waitReady(ref, { timeoutMs: 60_000 });
      const r = await mirrored.exec(ref, ['docker', 'info', '--format', '{{json .RegistryConfig.Mirrors}}'], { timeoutMs: 30_000 });
      assert.match(r.stdout, /mirror\.example\.invalid/, r.stderr);
    } finally {
      // Its own driver removes it: this test may run alone (--test-name-pattern), without the shared one.
      if (ref) await mirrored.destroy(ref).catch((e) => console.error('cleanup', e));
      await mirrored.removeSessionNetwork(`img-${tag}`).catch(() => {});
      await mirrored.dispose();
    }
  });

  test('the message without a pull names the setting that does it', () => {
    assert.match(missingImageMessage('nginx:1.25', '/srv/images', null), /docker pull nginx:1.25 \(the server does this itself when pulling is enabled\).*docker save nginx:1.25 -o nginx_1.25.tar and put the file in \/srv\/images/);
  });
});
