// Integration test against the real host engine: the inner engine's events stream is not cut by the
// per-request timeout. The old client ended it after `timeoutMs` of silence (an idle learner), and the
// check watcher then reconnected and re-evaluated every pending check, every 30-40 s.
// Everything is labelled with a test owner id and removed in `after`. Needs root and `npm run setup`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import { createDockerSandboxDriver } from './docker-driver.ts';
import { removeTestSandboxes } from './test-cleanup.test-support.ts';
import { createEngineClient } from './engine-client.ts';
import { linkSocket } from './safe-socket.ts';
import { LABELS, type EngineEvent, type SandboxDriver, type SandboxRef } from './types.ts';

const host = new Docker({ socketPath: '/var/run/docker.sock' });
const owner = `test-${randomBytes(3).toString('hex')}`;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-ev-'));
const log = (m: string, e?: unknown) => process.env.DEBUG && console.error(`[driver] ${m}`, e ?? '');
/** Stands in for the old 30 s request timeout; the stream stays idle well past it. */
const SHORT_TIMEOUT_MS = 2_000;
const IDLE_MS = 3 * SHORT_TIMEOUT_MS;

let driver: SandboxDriver;
let ref: SandboxRef;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A client like the driver's (the socket link is refreshed before each connection), with a short request timeout. */
function shortClient() {
  return createEngineClient({
    socketPath: ref.engineSocket,
    beforeConnect: () => linkSocket(path.join(ref.socketDir, 'docker.sock'), ref.engineSocket),
    timeoutMs: SHORT_TIMEOUT_MS,
  });
}

/** Follows the events of the sandbox's inner engine with a client whose request timeout is short. */
function follow() {
  const client = shortClient();
  const events: EngineEvent[] = [];
  const state: { ended: boolean; endedAt?: number; err?: Error } = { ended: false };
  const stop = client.events(
    (e) => events.push(e),
    (err) => {
      state.ended = true;
      state.endedAt = Date.now();
      state.err = err;
    },
  );
  return { client, events, state, stop };
}

async function waitFor(what: string, cond: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

before(async () => {
  driver = createDockerSandboxDriver({ dataDir, ownerId: owner, log });
  ref = await driver.create({ sessionId: `${owner}-ev`, node: 1, images: [], limits: { memoryMiB: 512, pids: 256, cpuShares: 512, diskGiB: 1 }, expiresAt: Date.now() + 3_600_000 });
  await driver.waitReady(ref, { images: [] });
});

after(async () => {
  await driver?.dispose();
  await removeTestSandboxes(host, dataDir, owner, log);
});

describe('inner engine events stream (real engine)', { concurrency: false }, () => {
  test(`a stream idle ${IDLE_MS / 1000} s (3x the request timeout) stays open and delivers the next event`, async () => {
    const f = follow();
    try {
      // Ordinary requests on the same client still work (and keep their timeout).
      assert.equal(await f.client.ping(), true);
      await sleep(IDLE_MS);
      assert.equal(f.state.ended, false, `the events stream ended after ${f.state.endedAt ? 'idling' : '?'}: ${f.state.err?.message ?? 'closed'}`);
      const volume = `lablab-ev-${randomBytes(3).toString('hex')}`;
      const t0 = Date.now();
      const r = await driver.exec(ref, ['docker', 'volume', 'create', '--label', `${LABELS.managed}=1`, volume]);
      assert.equal(r.exitCode, 0, r.stderr);
      await waitFor(`the volume ${volume} create event`, () => f.events.some((e) => e.type === 'volume' && e.action === 'create' && e.subject === volume), 5_000);
      console.log(`event after ${IDLE_MS} ms idle arrived ${Date.now() - t0} ms after the volume was created`);
      assert.equal(f.state.ended, false);
    } finally {
      f.stop();
    }
  });

  test('a real disconnect (the inner engine dies) still ends the stream, so the watcher reconnects', async () => {
    const f = follow();
    try {
      await sleep(500);
      const r = await driver.exec(ref, ['sh', '-c', 'kill "$(pidof dockerd)"'], { world: true });
      assert.equal(r.exitCode, 0, r.stderr);
      await waitFor('the stream to end', () => f.state.ended, 15_000);
    } finally {
      f.stop();
    }
    // init.sh brings the engine back; a new stream follows it again.
    const deadline = Date.now() + 20_000;
    const client = shortClient();
    while (!(await client.ping())) {
      if (Date.now() > deadline) throw new Error('inner engine did not come back');
      await sleep(200);
    }
    const g = follow();
    try {
      await sleep(300);
      const volume = `lablab-ev-${randomBytes(3).toString('hex')}`;
      assert.equal((await driver.exec(ref, ['docker', 'volume', 'create', volume])).exitCode, 0);
      await waitFor('an event on the new stream', () => g.events.some((e) => e.type === 'volume' && e.subject === volume), 5_000);
    } finally {
      g.stop();
    }
  });
});
