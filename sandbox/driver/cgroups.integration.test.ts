// Integration test against the real host engine and this host's cgroups: a sandbox's parent cgroup
// carries exactly what the plan promises, the sandbox runs beneath it, and a learner who raises the
// limits they can see inside does not raise the parent's. On a host whose cgroups the plan refuses,
// creating a sandbox fails with the plan's reason. Labelled with a test owner id, removed in `after`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import { createDockerSandboxDriver } from './docker-driver.ts';
import { removeTestSandboxes } from './test-cleanup.test-support.ts';
import { planCgroups } from './cgroup-plan.ts';
import { createCgroupFs, readCgroupFacts } from './cgroup-fs.ts';
import { createCgroupManager, engineCgroupInfo } from './host.ts';
import type { SandboxDriver, SandboxLimits, SandboxRef } from './types.ts';

const host = new Docker({ socketPath: '/var/run/docker.sock' });
const owner = `test-${randomBytes(3).toString('hex')}`;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-cg-'));
const log = (m: string, e?: unknown) => process.env.DEBUG && console.error(`[driver] ${m}`, e ?? '');
const limits: SandboxLimits = { memoryMiB: 384, pids: 200, cpuShares: 300, diskGiB: 1 };
const CG = '/sys/fs/cgroup';

let driver: SandboxDriver;
let ref: SandboxRef | undefined;

before(() => {
  driver = createDockerSandboxDriver({ dataDir, ownerId: owner, log });
});

after(async () => {
  await driver?.dispose();
  await removeTestSandboxes(host, dataDir, owner, log);
});

describe('sandbox cgroups on this host (real engine)', { concurrency: false }, () => {
  test('the parent cgroup holds the planned limits, the sandbox runs beneath it, and raising them inside changes nothing above', async () => {
    const e = await engineCgroupInfo(host);
    const facts = { ...readCgroupFacts(createCgroupFs()), engineDriver: e.driver, engineVersion: e.version };
    const spec = { sessionId: `${owner}-cg`, node: 1, images: [], limits, expiresAt: Date.now() + 3_600_000 };
    const plan = planCgroups(facts, limits, 'x');
    if (!plan.ok) {
      // This host cannot enforce them: the driver must refuse with the same reason.
      await assert.rejects(driver.create(spec), (err: Error) => err.message.includes(plan.reason));
      return;
    }
    ref = await driver.create(spec);
    await driver.waitReady(ref, { images: [] });
    const id = ref.id;
    const planned = planCgroups(facts, limits, id);
    assert.ok(planned.ok);
    for (const s of planned.steps) {
      if (s.kind !== 'write' || s.path.endsWith('cgroup.subtree_control')) continue;
      if (s.optional && !fs.existsSync(path.join(CG, s.path))) continue;
      assert.equal(fs.readFileSync(path.join(CG, s.path), 'utf8').trim(), s.value, s.path);
    }
    // The sandbox's init (and so everything it starts) lives beneath the parent.
    const pid = (await host.getContainer(ref.containerId).inspect()).State.Pid;
    const own = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    const memLine = own.split('\n').find((l) => (facts.mode === 'v2' ? l.startsWith('0::') : /:memory:/.test(l)))!;
    assert.match(memLine, new RegExp(`/lablab/${id}/`), own);

    // Inside, the learner is root at the namespace root and may rewrite what they see; the parent stays.
    const inside = facts.mode === 'v2' ? '/sys/fs/cgroup/memory.max' : '/sys/fs/cgroup/memory/memory.limit_in_bytes';
    const r = await driver.exec(ref, ['bash', '-c', `cat /proc/self/cgroup; echo 9223372036854771712 > ${inside}; ls /sys/fs/cgroup/ | grep -c lablab || true`]);
    assert.doesNotMatch(r.stdout, /lablab/, 'the learner sees no parent cgroup');
    const parentMem = facts.mode === 'v2' ? `lablab/${id}/memory.max` : `memory/lablab/${id}/memory.limit_in_bytes`;
    assert.equal(fs.readFileSync(path.join(CG, parentMem), 'utf8').trim(), String(limits.memoryMiB * 1024 * 1024));
  });

  test('on a host that cannot enforce the limits, create() refuses before any work, unless unlimited is allowed', async () => {
    // A cgroup v2 tree without memory and pids delegated, in a temp dir.
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-cg-root-'));
    try {
      fs.writeFileSync(path.join(root, 'cgroup.controllers'), 'cpu io');
      const cgroups = createCgroupManager({ cgroupFs: createCgroupFs(root), engineInfo: async () => ({ driver: 'cgroupfs', version: '2' }) });
      const strict = createDockerSandboxDriver({ dataDir, ownerId: owner, cgroups, log });
      const spec = { sessionId: `${owner}-refused`, node: 1, images: [], limits, expiresAt: Date.now() + 3_600_000 };
      await assert.rejects(strict.create(spec), /cannot enforce the sandbox limits: cgroup v2 offers no memory or pids controller.*SANDBOX_ALLOW_UNLIMITED=1/);
      assert.equal((await strict.list()).filter((r) => r.sessionId === spec.sessionId).length, 0, 'no container');
      const dirs = fs.existsSync(path.join(dataDir, 'sandboxes')) ? fs.readdirSync(path.join(dataDir, 'sandboxes')) : [];
      assert.deepEqual(dirs.filter((d) => !ref || d !== ref.id), [], 'no sandbox dir');
      await strict.dispose();

      const lax = createDockerSandboxDriver({ dataDir, ownerId: owner, cgroups: createCgroupManager({ cgroupFs: createCgroupFs(root), engineInfo: async () => ({ driver: 'cgroupfs', version: '2' }), allowUnlimited: true }), log });
      const started = await lax.create({ ...spec, sessionId: `${owner}-unlimited` });
      const info = await host.getContainer(started.containerId).inspect();
      assert.equal(info.HostConfig.CgroupParent ?? '', '', 'no parent: the limits are the container\'s own');
      await lax.destroy(started);
      await lax.dispose();
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
