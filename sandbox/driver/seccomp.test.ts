// The sandbox's seccomp profile is in force: calls it refuses fail with EPERM inside a sandbox,
// while the inner engine still builds and runs containers (the other integration tests).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createDockerSandboxDriver } from './docker-driver.ts';
import type { SandboxRef } from './types.ts';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-sc-'));
const driver = createDockerSandboxDriver({ dataDir, ownerId: `test-sc-${randomBytes(3).toString('hex')}`, log: () => {} });

after(async () => {
  await driver.reap({ now: Number.MAX_SAFE_INTEGER, isLive: () => false });
  await driver.dispose();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** errno of a raw syscall with harmless (invalid) arguments, called from perl inside the sandbox. */
async function errnoOf(ref: SandboxRef, nr: number, args: string): Promise<number> {
  const r = await driver.exec(ref, ['perl', '-e', `syscall(${nr}, ${args}); print 0 + $!`], { timeoutMs: 10_000 });
  return Number(r.stdout.trim());
}

test('refused syscalls fail with EPERM; ordinary ones still run', { timeout: 120_000 }, async () => {
  const sessionId = `sc-${randomBytes(3).toString('hex')}`;
  const network = await driver.createSessionNetwork(sessionId);
  let ref: SandboxRef | undefined;
  try {
    ref = await driver.create({ sessionId, node: 1, images: [], network, limits: { memoryMiB: 512, pids: 256, cpuShares: 512, diskGiB: 1 }, expiresAt: Date.now() + 600_000 });
    await driver.waitReady(ref, { images: [] });
    const EPERM = 1;
    // x86_64 numbers: swapon 167, name_to_handle_at 303, bpf 321, userfaultfd 323, init_module 175.
    assert.equal(await errnoOf(ref, 167, '0, 0'), EPERM, 'swapon');
    assert.equal(await errnoOf(ref, 303, '-100, 0, 0, 0, 0'), EPERM, 'name_to_handle_at');
    assert.equal(await errnoOf(ref, 321, '-1, 0, 0'), EPERM, 'bpf');
    assert.equal(await errnoOf(ref, 323, '-1'), EPERM, 'userfaultfd');
    assert.equal(await errnoOf(ref, 175, '0, 0, 0'), EPERM, 'init_module');
    // io_uring_setup 425 (allowed, it would fail with EFAULT on the NULL params), io_uring_register 427.
    assert.equal(await errnoOf(ref, 425, '1, 0'), EPERM, 'io_uring_setup');
    assert.equal(await errnoOf(ref, 427, '-1, 0, 0, 0'), EPERM, 'io_uring_register');
    // A call the profile allows fails for its own reason (EFAULT on a NULL path), not EPERM.
    assert.notEqual(await errnoOf(ref, 80, '0'), EPERM, 'chdir(NULL) reaches the kernel');
  } finally {
    if (ref) await driver.destroy(ref);
    await driver.removeSessionNetwork(sessionId);
  }
});
