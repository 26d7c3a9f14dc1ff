// An ssh:// engine for real: an sshd of the test's own on 127.0.0.1 whose logins reach a second
// dockerd; one sandbox created, readied and exec'd through ssh://root@127.0.0.1:<port>, then removed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { createDockerSandboxDriver } from './docker-driver.ts';
import { hostIsolationRule } from './networks.ts';
import { dockerOptions, parseEngine } from './engines-config.ts';
import { builtSandboxImage } from './image-tag.ts';
import { shipImages } from './image-ship.ts';
import { startSecondEngine, type SecondEngine } from './second-engine.test-support.ts';
import { sshdMissing, startSshEngine, type SshEngine } from './ssh-engine.test-support.ts';
import { LABELS } from './types.ts';

const tag = randomBytes(3).toString('hex');
const owner = `test-ssh-${tag}`;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-ssh-'));
const log = (m: string, e?: unknown) => process.env.DEBUG && console.error(`[ssh] ${m}`, e ?? '');
const POOL = '10.228.0.0/16';

let engine: SecondEngine;
let sshd: SshEngine;

describe('a remote engine over ssh', { timeout: 600_000, skip: sshdMissing() ?? false }, () => {
  before(async () => {
    engine = await startSecondEngine({ dir: path.join(dir, 'engine'), name: `ssh${tag}` });
    sshd = await startSshEngine({ dir: path.join(dir, 'sshd'), engineSocket: engine.socketPath });
    await shipImages({ from: new Docker({ socketPath: '/var/run/docker.sock' }), to: engine.docker, images: [builtSandboxImage(), 'busybox:latest'] });
  });

  after(async () => {
    spawnSync('iptables', ['-D', ...hostIsolationRule(POOL)]);
    await sshd?.stop();
    await engine?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a sandbox created, ready and exec\'d through ssh://root@127.0.0.1', async () => {
    const spec = parseEngine({ id: 'far', url: `ssh://root@127.0.0.1:${sshd.port}`, identityFile: sshd.identityFile, hostKey: sshd.hostKey }, 1);
    const options = dockerOptions(spec, (p) => fs.readFileSync(p)) as Docker.DockerOptions;
    const driver = createDockerSandboxDriver({ dataDir: path.join(dir, 'data'), ownerId: owner, docker: options, remote: true, allowUnlimited: true, subnetPool: POOL, log });
    const sessionId = `ssh-${tag}`;
    const ref = await driver.create({ sessionId, node: 1, images: ['busybox'], limits: { memoryMiB: 512, pids: 512, cpuShares: 512, diskGiB: 1 }, expiresAt: Date.now() + 600_000 });
    try {
      await driver.waitReady(ref, { timeoutMs: 90_000 });
      const r = await driver.exec(ref, ['bash', '-c', 'echo over ssh from $(hostname)']);
      assert.equal(r.stdout.trim(), 'over ssh from node1');
      assert.ok((await driver.engine(ref).imageTags()).includes('busybox:latest'));
    } finally {
      await driver.destroy(ref);
      await driver.removeSessionNetwork(sessionId);
      await driver.dispose();
    }
    const remote = new Docker(options);
    assert.deepEqual((await remote.listContainers({ all: true, filters: { label: [`${LABELS.owner}=${owner}`, `${LABELS.kind}=sandbox`] } })).length, 0);
  });

  test('an ssh engine whose host key differs from the one configured is refused', async () => {
    const spec = parseEngine({ id: 'far', url: `ssh://root@127.0.0.1:${sshd.port}`, identityFile: sshd.identityFile, hostKey: sshd.identityFile + '.pub' }, 1);
    const docker = new Docker(dockerOptions(spec, (p) => fs.readFileSync(p)) as Docker.DockerOptions);
    await assert.rejects(docker.ping(), /Host denied \(verification failed\)/);
  });
});
