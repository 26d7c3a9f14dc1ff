// Adversarial: what a sandbox may reach outside its session. The "outside" is a network namespace
// this test makes on this machine (netns.test-support.ts), holding a private address, a link-local
// one and two from the documentation ranges, each with a listener. The host reaches all of them
// (the control); a sandbox, and a container inside it, must not reach the private and link-local ones.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createDockerSandboxDriver } from '../driver/docker-driver.ts';
import type { EgressPolicy } from '../driver/egress.ts';
import type { SandboxDriver, SandboxRef } from '../driver/types.ts';
import { createNetnsFixture, type NetnsFixture } from './netns.test-support.ts';

const PRIVATE = '10.251.77.2';
const LINK_LOCAL = '169.254.77.77';
const PUBLIC_A = '198.51.100.7';
const PUBLIC_B = '203.0.113.9';
const LIMITS = { memoryMiB: 512, pids: 256, cpuShares: 512, diskGiB: 1 };

let fx: NetnsFixture;
const cleanups: (() => Promise<void>)[] = [];

function makeDriver(egress: EgressPolicy): SandboxDriver {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-eg-'));
  const driver = createDockerSandboxDriver({ dataDir, sandboxImage: process.env.SANDBOX_IMAGE || undefined, ownerId: `test-eg-${randomBytes(3).toString('hex')}`, egress, log: () => {} });
  cleanups.push(async () => {
    await driver.reap({ now: Number.MAX_SAFE_INTEGER, isLive: () => false });
    await driver.dispose();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  return driver;
}

before(async () => {
  fx = await createNetnsFixture([PRIVATE, LINK_LOCAL, PUBLIC_A, PUBLIC_B]);
});

after(async () => {
  for (const c of cleanups) await c().catch(() => {});
  fx?.dispose();
});

/** curl from inside the sandbox; "ok" when the listener answered. */
async function reach(driver: SandboxDriver, ref: SandboxRef, addr: string): Promise<string> {
  const r = await driver.exec(ref, ['bash', '-c', `curl -sS --max-time 4 http://${addr}:${fx.port}/ 2>&1; true`], { timeoutMs: 15_000 });
  return r.stdout.includes(fx.marker) ? 'ok' : `refused (${r.stdout.trim().slice(0, 80)})`;
}

function hostReaches(addr: string): boolean {
  return execFileSync('curl', ['-sS', '--max-time', '4', `http://${addr}:${fx.port}/`]).toString().includes(fx.marker);
}

async function withSandbox(driver: SandboxDriver, images: string[], fn: (ref: SandboxRef, sessionId: string) => Promise<void>): Promise<void> {
  const sessionId = `eg-${randomBytes(3).toString('hex')}`;
  const network = await driver.createSessionNetwork(sessionId);
  let ref: SandboxRef | undefined;
  try {
    ref = await driver.create({ sessionId, node: 1, images, network, limits: LIMITS, expiresAt: Date.now() + 600_000 });
    await driver.waitReady(ref, { images });
    await fn(ref, sessionId);
  } finally {
    if (ref) await driver.destroy(ref);
    await driver.removeSessionNetwork(sessionId);
  }
}

const ourRules = () => execFileSync('iptables', ['-w', '-S', 'DOCKER-USER']).toString().split('\n').filter((l) => l.includes('lablab-egress:'));

test('the host reaches every listener of the fixture (control)', () => {
  for (const a of fx.addresses) assert.ok(hostReaches(a), `host reaches ${a}`);
});

test('default policy: private and link-local refused, from the sandbox and from a container inside it; rules go with the network', { timeout: 240_000 }, async () => {
  const driver = makeDriver({ mode: 'internet' });
  let tagged: string[] = [];
  await withSandbox(driver, ['debian:bookworm-slim'], async (ref, sessionId) => {
    assert.match(await reach(driver, ref, PRIVATE), /^refused/, 'a private-range address');
    assert.match(await reach(driver, ref, LINK_LOCAL), /^refused/, 'a link-local address');
    assert.equal(await reach(driver, ref, PUBLIC_A), 'ok', 'a public address stays reachable');
    const inner = await driver.exec(ref, ['sh', '-c',
      `for a in ${PRIVATE} ${LINK_LOCAL} ${PUBLIC_A}; do ` +
      `docker run --rm debian:bookworm-slim timeout 4 bash -c 'exec 3<>/dev/tcp/'$a'/${fx.port} && printf "GET / HTTP/1.0\\r\\n\\r\\n" >&3 && cat <&3' 2>&1 | grep -q ${fx.marker} && echo "$a ok" || echo "$a refused"; done`], { timeoutMs: 60_000 });
    assert.match(inner.stdout, new RegExp(`${PRIVATE} refused`), inner.stdout + inner.stderr);
    assert.match(inner.stdout, new RegExp(`${LINK_LOCAL} refused`), inner.stdout + inner.stderr);
    assert.match(inner.stdout, new RegExp(`${PUBLIC_A.replace(/\./g, '\\.')} ok`), inner.stdout + inner.stderr);
    tagged = ourRules().filter((l) => l.includes(sessionId.replace(/[^a-zA-Z0-9_.-]/g, '')));
    assert.ok(tagged.length > 0, 'the session has labelled rules in DOCKER-USER');
  });
  const left = ourRules().filter((l) => tagged.includes(l));
  assert.deepEqual(left, [], 'the rules are removed with the session network');
});

test('SANDBOX_EGRESS=none: nothing outside the session is reachable', { timeout: 120_000 }, async () => {
  const driver = makeDriver({ mode: 'none' });
  await withSandbox(driver, [], async (ref) => {
    assert.match(await reach(driver, ref, PUBLIC_A), /^refused/);
    assert.match(await reach(driver, ref, PRIVATE), /^refused/);
  });
});

test('SANDBOX_EGRESS=allowlist: only the listed addresses', { timeout: 120_000 }, async () => {
  const driver = makeDriver({ mode: 'allowlist', allow: [`${PUBLIC_A}/32`] });
  await withSandbox(driver, [], async (ref) => {
    assert.equal(await reach(driver, ref, PUBLIC_A), 'ok');
    assert.match(await reach(driver, ref, PUBLIC_B), /^refused/);
    assert.match(await reach(driver, ref, LINK_LOCAL), /^refused/);
  });
});
