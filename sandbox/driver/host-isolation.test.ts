// A learner cannot reach the host's own services from a sandbox: a server listening on every host
// address is refused when the sandbox dials its network's gateway (the host's side of the bridge).
// Traffic stays on the network this test creates.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import { createDockerSandboxDriver } from './docker-driver.ts';
import type { SandboxRef } from './types.ts';

const docker = new Docker({ socketPath: '/var/run/docker.sock' });
const owner = `test-iso-${randomBytes(3).toString('hex')}`;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-iso-'));
const driver = createDockerSandboxDriver({ dataDir, ownerId: owner, log: () => {} });
const server = http.createServer((_q, r) => r.end('host service\n'));

after(async () => {
  server.close();
  await driver.reap({ now: Number.MAX_SAFE_INTEGER, isLive: () => false });
  await driver.dispose();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test('a sandbox cannot open a connection to a service on the host', { timeout: 120_000 }, async () => {
  await new Promise<void>((r) => server.listen(0, '0.0.0.0', () => r()));
  const port = (server.address() as { port: number }).port;
  const sessionId = `iso-${randomBytes(3).toString('hex')}`;
  const network = await driver.createSessionNetwork(sessionId);
  let ref: SandboxRef | undefined;
  try {
    ref = await driver.create({ sessionId, node: 1, images: [], network, limits: { memoryMiB: 512, pids: 256, cpuShares: 512, diskGiB: 1 }, expiresAt: Date.now() + 600_000 });
    await driver.waitReady(ref, { images: [] });
    const info = await docker.getNetwork(network).inspect();
    const gateway = info.IPAM?.Config?.[0]?.Gateway as string | undefined;
    assert.ok(gateway, 'the session network has a gateway');
    const r = await driver.exec(ref, ['bash', '-c', `curl -sS --max-time 5 http://${gateway}:${port}/; echo "exit=$?"`], { timeoutMs: 20_000 });
    assert.doesNotMatch(r.stdout, /host service/);
    assert.match(r.stdout + r.stderr, /exit=7|refused/i, `expected a refused connection, got ${r.stdout} ${r.stderr}`);
  } finally {
    if (ref) await driver.destroy(ref);
    await driver.removeSessionNetwork(sessionId);
  }
});
