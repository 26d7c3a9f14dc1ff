import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cpuSharesToWeight, describeCgroups, planCgroups, type CgroupFacts, type CgroupPlan } from './cgroup-plan.ts';
import { applyCgroupSteps, createCgroupFs, listSandboxCgroups, readCgroupFacts, removeSandboxCgroups, sandboxMemoryBytes, setSandboxCpuShares } from './cgroup-fs.ts';
import { createCgroupManager } from './host.ts';

const limits = { memoryMiB: 2048, pids: 1024, cpuShares: 512, diskGiB: 8 };
const MEM = String(2048 * 1024 * 1024);
const v1: CgroupFacts = { mode: 'v1', controllers: ['blkio', 'cpu', 'cpuacct', 'memory', 'pids'], subtreeControl: [], engineDriver: 'cgroupfs', engineVersion: '1' };
const v2: CgroupFacts = { mode: 'v2', controllers: ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids'], subtreeControl: [], engineDriver: 'cgroupfs', engineVersion: '2' };

function writes(p: CgroupPlan): Record<string, string> {
  assert.ok(p.ok, p.ok ? '' : p.reason);
  return Object.fromEntries(p.steps.flatMap((s) => (s.kind === 'write' ? [[s.path, s.value]] : [])));
}

function tmpRoot(t: { after: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-cgroup-test-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function put(root: string, rel: string, content = ''): void {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  fs.writeFileSync(path.join(root, rel), content);
}

test('v1: limits on memory, pids and cpu hierarchies under /lablab/<id>', () => {
  const p = planCgroups(v1, limits, 'abc');
  assert.ok(p.ok);
  assert.equal(p.parent, '/lablab/abc');
  assert.deepEqual(writes(p), {
    'memory/lablab/abc/memory.limit_in_bytes': MEM,
    'memory/lablab/abc/memory.memsw.limit_in_bytes': MEM,
    'pids/lablab/abc/pids.max': '1024',
    'cpu/lablab/cpu.shares': '256',
    'cpu/lablab/abc/cpu.shares': '512',
  });
  assert.ok(p.steps.find((s) => s.path.endsWith('memsw.limit_in_bytes') && s.kind === 'write' && s.optional), 'no swap accounting is not fatal');
  assert.match(describeCgroups(p, false), /^cgroup v1: memory 2048 MiB, pids 1024, cpu shares 512 enforced on \/lablab\/<sandbox id>$/);
});

test('hybrid (v1 controllers + an empty unified tree) is planned as v1 and says so', () => {
  const p = planCgroups({ ...v1, mode: 'hybrid' }, limits, 'abc');
  assert.equal(writes(p)['pids/lablab/abc/pids.max'], '1024');
  assert.match(describeCgroups(p, false), /^cgroup v1 \(hybrid\): memory 2048 MiB/);
});

test('v1 without a memory hierarchy refuses and names the boot option', () => {
  const p = planCgroups({ ...v1, controllers: ['cpu', 'pids'] }, limits, 'abc');
  assert.ok(!p.ok);
  assert.match(p.reason, /no cgroup v1 memory hierarchy/);
  assert.match(p.reason, /cgroup_enable=memory/);
});

test('v2 (cgroupfs driver): parent /lablab/<id> with memory.max, no swap, pids.max, cpu.weight; controllers enabled down the path', () => {
  const p = planCgroups(v2, limits, 'abc');
  assert.ok(p.ok);
  assert.equal(p.parent, '/lablab/abc');
  assert.deepEqual(writes(p), {
    'cgroup.subtree_control': '+cpu +memory +pids',
    'lablab/cpu.weight': '25',
    'lablab/cgroup.subtree_control': '+cpu +memory +pids',
    'lablab/abc/memory.max': MEM,
    'lablab/abc/memory.swap.max': '0',
    'lablab/abc/pids.max': '1024',
    'lablab/abc/cpu.weight': '20',
    'lablab/abc/cgroup.subtree_control': '+cpu +memory +pids',
  });
  // order matters: a controller must be enabled in the parent before a child's files exist
  const paths = p.steps.map((s) => `${s.kind} ${s.path}`);
  assert.ok(paths.indexOf('write lablab/cgroup.subtree_control') < paths.indexOf('mkdir lablab/abc'));
  assert.ok(paths.indexOf('mkdir lablab/abc') < paths.indexOf('write lablab/abc/memory.max'));
  assert.match(describeCgroups(p, false), /^cgroup v2: memory 2048 MiB, pids 1024, cpu weight 20 \(shares 512\) enforced/);
});

test('v2: the root subtree_control is left alone when it already delegates the controllers', () => {
  const p = planCgroups({ ...v2, subtreeControl: ['cpu', 'io', 'memory', 'pids'] }, limits, 'abc');
  assert.equal(writes(p)['cgroup.subtree_control'], undefined);
});

test('the systemd cgroup driver (v2 and v1): sandboxes in lablab.slice, limits on their own scopes, nothing written by us', () => {
  const p = planCgroups({ ...v2, engineDriver: 'systemd', engineVersion: '2' }, limits, 'abc');
  assert.ok(p.ok);
  assert.equal(p.parent, 'lablab.slice');
  assert.deepEqual(p.steps, []);
  assert.match(describeCgroups(p, false), /^cgroup v2: memory 2048 MiB, pids 1024, cpu weight \d+ .* enforced on each sandbox's scope in lablab\.slice/);
  const p1 = planCgroups({ ...v1, engineDriver: 'systemd' }, limits, 'abc');
  assert.ok(p1.ok);
  assert.equal(p1.parent, 'lablab.slice');
  // Still refused when the engine and the filesystem disagree, or a controller is missing.
  assert.ok(!planCgroups({ ...v2, engineDriver: 'systemd', engineVersion: '1' }, limits, 'abc').ok);
  assert.ok(!planCgroups({ ...v2, engineDriver: 'systemd', controllers: ['cpu', 'io'] }, limits, 'abc').ok);
});

test('v2 without the memory or pids controller delegated refuses and names both remedies', () => {
  for (const missing of ['memory', 'pids']) {
    const p = planCgroups({ ...v2, controllers: v2.controllers.filter((c) => c !== missing) }, limits, 'abc');
    assert.ok(!p.ok, missing);
    assert.match(p.reason, new RegExp(`no ${missing} controller`));
    assert.match(p.reason, /cgroup_no_v1=all/);
    assert.match(p.reason, /Delegate=yes/);
  }
});

test('an engine that disagrees with the filesystem (v1 engine on a v2 tree) refuses', () => {
  const p = planCgroups({ ...v2, engineVersion: '1' }, limits, 'abc');
  assert.ok(!p.ok);
  assert.match(p.reason, /reports cgroup v1 but \/sys\/fs\/cgroup is cgroup v2/);
  assert.ok(!planCgroups({ mode: 'none', controllers: [], subtreeControl: [] }, limits, 'abc').ok);
});

test('refusal lines: refused by default, a loud warning with SANDBOX_ALLOW_UNLIMITED=1', () => {
  const p = planCgroups({ ...v2, controllers: ['cpu', 'io'] }, limits, 'abc');
  assert.match(describeCgroups(p, false), /^cgroup v2: refusing to start sandboxes: .*SANDBOX_ALLOW_UNLIMITED=1/);
  assert.match(describeCgroups(p, true), /^cgroup v2: sandbox limits NOT enforced \(SANDBOX_ALLOW_UNLIMITED=1\)/);
});

test('cpu shares map onto cpu.weight over the whole range', () => {
  assert.equal(cpuSharesToWeight(2), 1);
  assert.equal(cpuSharesToWeight(1024), 39);
  assert.equal(cpuSharesToWeight(262_144), 10_000);
});

test('facts are read from a v2 tree and from a hybrid v1 tree', (t) => {
  const r2 = tmpRoot(t);
  put(r2, 'cgroup.controllers', 'cpuset cpu io memory pids\n');
  put(r2, 'cgroup.subtree_control', 'memory pids\n');
  assert.deepEqual(readCgroupFacts(createCgroupFs(r2)), { mode: 'v2', controllers: ['cpuset', 'cpu', 'io', 'memory', 'pids'], subtreeControl: ['memory', 'pids'] });

  const r1 = tmpRoot(t);
  for (const h of ['cpu,cpuacct', 'memory', 'pids', 'systemd']) put(r1, `${h}/cgroup.procs`);
  put(r1, 'unified/cgroup.controllers', '');
  assert.deepEqual(readCgroupFacts(createCgroupFs(r1)), { mode: 'hybrid', controllers: ['cpu', 'cpuacct', 'memory', 'pids'], subtreeControl: [] });
  fs.rmSync(path.join(r1, 'unified'), { recursive: true });
  assert.equal(readCgroupFacts(createCgroupFs(r1)).mode, 'v1');
  assert.equal(readCgroupFacts(createCgroupFs(tmpRoot(t))).mode, 'none');
});

test('executor carries out a v2 plan on a tree laid out like /sys/fs/cgroup, then removes it', (t) => {
  const root = tmpRoot(t);
  put(root, 'cgroup.controllers', 'cpu memory pids');
  put(root, 'cgroup.subtree_control', '');
  // what the kernel would create with the dir: swap accounting present
  put(root, 'lablab/abc/memory.swap.max', 'max');
  const cg = createCgroupFs(root);
  const plan = planCgroups({ ...readCgroupFacts(cg), engineDriver: 'cgroupfs', engineVersion: '2' }, limits, 'abc');
  assert.ok(plan.ok);
  applyCgroupSteps(cg, plan.steps);
  const read = (rel: string) => fs.readFileSync(path.join(root, rel), 'utf8');
  assert.equal(read('cgroup.subtree_control'), '+cpu +memory +pids');
  assert.equal(read('lablab/cgroup.subtree_control'), '+cpu +memory +pids');
  assert.equal(read('lablab/cpu.weight'), '25', 'all sandboxes together weigh a quarter of the default');
  assert.equal(read('lablab/abc/memory.max'), MEM);
  assert.equal(read('lablab/abc/memory.swap.max'), '0');
  assert.equal(read('lablab/abc/pids.max'), '1024');
  assert.equal(read('lablab/abc/cpu.weight'), '20');
  // A pooled sandbox runs at the lowest weight until it is taken, then at the limits' again.
  assert.equal(setSandboxCpuShares(cg, 'v2', 'abc', 2), true);
  assert.equal(read('lablab/abc/cpu.weight'), '1');
  assert.equal(setSandboxCpuShares(cg, 'v2', 'abc', 512), true);
  assert.equal(read('lablab/abc/cpu.weight'), '20');
  assert.equal(setSandboxCpuShares(cg, 'v2', 'gone', 512), false, 'no parent (systemd driver): nothing written');
  assert.deepEqual(listSandboxCgroups(cg, 'v2'), ['abc']);
  put(root, 'lablab/abc/memory.current', '4096\n');
  assert.equal(sandboxMemoryBytes(cg, 'v2', 'abc'), 4096);

  // cgroupfs holds only dirs once processes are gone; emulate that, with a nested inner-engine cgroup
  for (const f of fs.readdirSync(path.join(root, 'lablab/abc'))) fs.rmSync(path.join(root, 'lablab/abc', f));
  fs.mkdirSync(path.join(root, 'lablab/abc/ctr/docker/inner'), { recursive: true });
  removeSandboxCgroups(cg, 'v2', 'abc');
  assert.ok(!fs.existsSync(path.join(root, 'lablab/abc')));
});

test('executor skips an optional file the kernel does not offer, and names the file a write failed on', (t) => {
  const root = tmpRoot(t);
  const cg = createCgroupFs(root);
  applyCgroupSteps(cg, [{ kind: 'mkdir', path: 'lablab/x' }, { kind: 'write', path: 'lablab/x/memory.swap.max', value: '0', optional: true }]);
  assert.ok(!fs.existsSync(path.join(root, 'lablab/x/memory.swap.max')));
  assert.throws(() => applyCgroupSteps(cg, [{ kind: 'write', path: 'nope/pids.max', value: '5' }]), /could not write "5" to nope\/pids\.max/);
});

test('manager: refuses by default where limits cannot be enforced, and starts unlimited only when allowed', async (t) => {
  const root = tmpRoot(t);
  put(root, 'cgroup.controllers', 'cpu io'); // v2 with memory and pids not delegated
  const engineInfo = async () => ({ driver: 'cgroupfs', version: '2' });
  const strict = createCgroupManager({ cgroupFs: createCgroupFs(root), engineInfo });
  const refused = (e: Error & { code?: string }) => e.code === 'sandbox_failed' && /SANDBOX_ALLOW_UNLIMITED=1/.test(e.message);
  await assert.rejects(strict.check(limits), refused);
  await assert.rejects(strict.prepare('abc', limits), refused);
  assert.ok(!fs.existsSync(path.join(root, 'lablab')), 'a refusal creates nothing');
  const lax = createCgroupManager({ cgroupFs: createCgroupFs(root), engineInfo, allowUnlimited: true });
  await lax.check(limits);
  assert.equal(await lax.prepare('abc', limits), undefined);
  assert.match(await lax.describe(limits), /NOT enforced/);

  put(root, 'cgroup.controllers', 'cpu io memory pids');
  const ok = createCgroupManager({ cgroupFs: createCgroupFs(root), engineInfo });
  assert.equal(await ok.prepare('abc', limits), '/lablab/abc');
  assert.equal(fs.readFileSync(path.join(root, 'lablab/abc/pids.max'), 'utf8'), '1024');
});

test('v1: a pooled sandbox\'s host parent goes to the lowest cpu shares and back', (t) => {
  const root = tmpRoot(t);
  put(root, 'cpu/lablab/abc/cpu.shares', '512');
  const cg = createCgroupFs(root);
  assert.equal(setSandboxCpuShares(cg, 'hybrid', 'abc', 2), true);
  assert.equal(fs.readFileSync(path.join(root, 'cpu/lablab/abc/cpu.shares'), 'utf8'), '2');
  assert.equal(setSandboxCpuShares(cg, 'v1', 'abc', 512), true);
  assert.equal(fs.readFileSync(path.join(root, 'cpu/lablab/abc/cpu.shares'), 'utf8'), '512');
  assert.equal(setSandboxCpuShares(cg, 'v1', 'none-here', 512), false);
});
