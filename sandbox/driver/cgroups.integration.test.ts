// Integration test against the real host engine and this host's cgroups: a sandbox's parent cgroup
// carries exactly what the plan promises, the sandbox runs beneath it, and a learner who raises the
// limits they can see inside cannot raise them. On a host whose cgroups the plan refuses, the first
// test is skipped with that reason and the second shows the refusal. Both sandboxes run a container. Labelled with a test owner id, removed in `after`.
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
  test('the limits hold where the plan puts them, the inner engine runs a container, and the learner cannot raise them', async (t) => {
    const e = await engineCgroupInfo(host);
    const facts = { ...readCgroupFacts(createCgroupFs()), engineDriver: e.driver, engineVersion: e.version };
    const spec = { sessionId: `${owner}-cg`, node: 1, images: [], limits, expiresAt: Date.now() + 3_600_000 };
    const plan = planCgroups(facts, limits, 'x');
    if (!plan.ok) {
      // Not a pass: this host cannot enforce the limits (the next test covers the refusal itself).
      t.skip(`this host's cgroups cannot enforce the limits: ${plan.reason}`);
      return;
    }
    ref = await driver.create(spec);
    await driver.waitReady(ref, { images: [], timeoutMs: 300_000 });
    const id = ref.id;
    const planned = planCgroups(facts, limits, id);
    assert.ok(planned.ok);
    // cgroupfs driver: the parent /lablab/<id> holds exactly the planned values.
    for (const s of planned.steps) {
      if (s.kind !== 'write' || s.path.endsWith('cgroup.subtree_control')) continue;
      if (s.optional && !fs.existsSync(path.join(CG, s.path))) continue;
      assert.equal(fs.readFileSync(path.join(CG, s.path), 'utf8').trim(), s.value, s.path);
    }
    // Either driver: the sandbox's own cgroup, read from the host for this mode, carries the limits,
    // beneath the planned parent (/lablab/<id>, or lablab.slice for the systemd driver).
    const pid = (await host.getContainer(ref.containerId).inspect()).State.Pid;
    const own = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    const v2 = facts.mode === 'v2';
    const line = own.split('\n').find((l) => (v2 ? l.startsWith('0::') : /:memory:/.test(l)))!;
    const rel = line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1).replace(/\/init$/, '');
    assert.match(rel, facts.engineDriver === 'systemd' ? /\/lablab\.slice\// : new RegExp(`/lablab/${id}/`), own);
    const memFile = v2 ? path.join(CG, rel, 'memory.max') : path.join(CG, 'memory', rel, 'memory.limit_in_bytes');
    const pidsFile = v2 ? path.join(CG, rel, 'pids.max') : path.join(CG, 'pids', rel, 'pids.max');
    const memBytes = String(limits.memoryMiB * 1024 * 1024);
    assert.equal(fs.readFileSync(memFile, 'utf8').trim(), memBytes, memFile);
    assert.equal(fs.readFileSync(pidsFile, 'utf8').trim(), String(limits.pids), pidsFile);

    // The inner engine works: an image made from our own busybox, run as a container.
    const inner = await driver.exec(ref, ['bash', '-c', 'tar -cf - -C /.lablab/bin busybox | docker import - lablab-mini >/dev/null && docker run --rm lablab-mini /busybox echo inner-$((40+2))'], { timeoutMs: 180_000, world: true });
    assert.match(inner.stdout, /inner-42/, inner.stdout + inner.stderr);

    // The learner, root at the namespace root, cannot raise what they see; the host's values stay.
    const inside = v2 ? '/sys/fs/cgroup/memory.max' : '/sys/fs/cgroup/memory/memory.limit_in_bytes';
    const r = await driver.exec(ref, ['bash', '-c', `echo 9223372036854771712 > ${inside} && echo RAISED; ls /sys/fs/cgroup/ | grep -c lablab || true`], { world: true });
    assert.doesNotMatch(r.stdout, /RAISED/, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout, /lablab/, 'the learner sees no parent cgroup');
    assert.equal(fs.readFileSync(memFile, 'utf8').trim(), memBytes);
    if (planned.steps.length) {
      const parentMem = v2 ? `lablab/${id}/memory.max` : `memory/lablab/${id}/memory.limit_in_bytes`;
      assert.equal(fs.readFileSync(path.join(CG, parentMem), 'utf8').trim(), memBytes);
    }
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
      await lax.waitReady(started, { images: [], timeoutMs: 300_000 });
      const inner = await lax.exec(started, ['bash', '-c', 'tar -cf - -C /.lablab/bin busybox | docker import - lablab-mini >/dev/null && docker run --rm lablab-mini /busybox echo inner-$((40+2))'], { timeoutMs: 180_000, world: true });
      assert.match(inner.stdout, /inner-42/, `the unlimited sandbox's inner engine runs a container: ${inner.stdout}${inner.stderr}`);
      await lax.destroy(started);
      await lax.dispose();
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
