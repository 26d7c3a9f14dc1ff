// Issue 22: two servers and a `labs:verify` on one data dir, started in every order that matters.
// Whoever starts first builds the lab's image template; the others start while that build runs,
// wait for it (the key's work lock) and use it. In each order: no build is lost or reaped while its
// process lives (no BROKEN lab, no "ENOENT …/run/docker.sock"), labs:verify exits 0, each server
// serves the lab and a learner (socket.io, as the web app) gets a ready shell whose step passes,
// and once all three are done nothing of theirs is left but the finished template.
//
// The orders are made certain, not left to timing: once the first process's build has its inner
// engine up (its run/docker.sock exists), its builder container is frozen (docker pause) until the
// others have started: both servers listen (so their start-up reap has run over the data dir) and,
// where labs:verify comes second, it waits on the template's lock. Then the build thaws and finishes.
// Each order forces a fresh build of the same template (the previous one is released first).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import Docker from 'dockerode';
import { inventory, type Inventory } from '../sandbox/driver/inventory.test-support.ts';
import { removeTestSandboxes } from '../sandbox/driver/test-cleanup.test-support.ts';
import { BUILD_LOCK_LABEL } from '../sandbox/driver/templates.ts';
import { LABELS } from '../sandbox/driver/types.ts';
import { LabClient } from '../server/bench/lab-client.ts';
import { loadLabs } from '../server/labs/load.ts';
import { cleanupOwner } from './cleanup.ts';
import { ARTIFACTS, ROOT, startServerProc, tempDir, type ServerProc } from './harness.ts';

const docker = new Docker();
const base = `sdd${process.pid}`;
const owners = { a: `${base}-a`, b: `${base}-b` };
// Short: sandbox socket paths must stay under 108 bytes.
const DATA = fs.mkdtempSync('/tmp/sdd-');
const labsDir = tempDir('shared-data-labs');
const LAB = 'shared-dir';
const STEP_CODE = 'docker tag busybox shared-dir:ok && docker images shared-dir';
fs.mkdirSync(path.join(labsDir, LAB));
fs.writeFileSync(
  path.join(labsDir, LAB, 'lab.md'),
  `---\ntitle: One data dir\nterms: 1\nimages: [busybox]\n---\n## Tag the preloaded image\n\n\`\`\`.term1\n${STEP_CODE}\n\`\`\`\n\n\`\`\`check\n- image: shared-dir:ok\n\`\`\`\n`,
);

const servers: ServerProc[] = [];
const verifies: ChildProcess[] = [];
/** Owners the labs:verify runs used (verify-<pid> of their node process), for the clean-up. */
const verifyOwners = new Set<string>();
let frozen: string | undefined;

/** Everything an order started is stopped, whether it passed or not: the next order starts from nothing. */
async function stopAll(): Promise<void> {
  if (frozen) await docker.getContainer(frozen).unpause().catch(() => {});
  frozen = undefined;
  for (const v of verifies.splice(0)) if (v.exitCode === null && v.signalCode === null) process.kill(-v.pid!, 'SIGKILL');
  for (const s of servers.splice(0)) if (s.proc.exitCode === null && s.proc.signalCode === null) await s.stop();
}

after(async () => {
  await stopAll();
  for (const o of [...Object.values(owners), ...verifyOwners]) await cleanupOwner(DATA, o);
  await removeTestSandboxes(docker, DATA, owners.a, () => {});
});

async function until<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, also?: () => void): Promise<T> {
  for (let i = 0; i < 15_000; i++) {
    also?.();
    const v = await probe();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 40));
  }
  throw new Error(`never: ${what}`);
}

function startServer(which: 'a' | 'b'): Promise<ServerProc> {
  return startServerProc({
    labsDir,
    dataDir: DATA,
    ownerId: owners[which],
    // Two servers, one data dir; each its own database (no replicas: they are two separate hosts' worth of learners).
    // PLAY_IMAGES as the lab's: the playground's shape is then the lab's, so start-up prepares one template.
    env: { DB_FILE: path.join(DATA, `${which}.sqlite`), PREPARE_TEMPLATES: '1', POOL_SIZE: '0', PLAY_IMAGES: 'busybox' },
  }).then((s) => (servers.push(s), s));
}

/** Every pid below `root`. */
function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      parent.set(Number(e), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [c, pp] of parent) if (pp === p) (out.push(c), walk(c));
  };
  walk(root);
  return out;
}

function startVerify() {
  const proc = spawn('npm', ['run', 'labs:verify', '--', '--labs', labsDir, '--data', DATA], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  verifies.push(proc);
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const code = new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
  const noteOwners = () => {
    if (proc.exitCode === null) for (const p of descendants(proc.pid!)) verifyOwners.add(`verify-${p}`);
  };
  return { out: () => out, code, noteOwners };
}

interface Build {
  container: string;
  lockFile: string;
  key: string;
}

/** The template build under DATA once its inner engine is up (its socket exists): the moment a reap used to break it. */
async function buildWithEngineUp(also?: () => void): Promise<Build> {
  return until('a template build under the data dir with its inner engine up', async () => {
    for (const c of await docker.listContainers({ filters: { label: [`${LABELS.kind}=template-builder`] } })) {
      const lockFile = c.Labels?.[BUILD_LOCK_LABEL] ?? '';
      if (!lockFile.startsWith(DATA + '/') || c.State !== 'running') continue;
      const key = path.basename(lockFile);
      const dirs = fs.readdirSync(path.join(DATA, 'templates')).filter((e) => e.startsWith(`${key}.build-`));
      if (dirs.some((d) => fs.existsSync(path.join(DATA, 'templates', d, 'run', 'docker.sock')))) return { container: c.Id, lockFile, key };
    }
    return undefined;
  }, also);
}

async function freeze(b: Build): Promise<void> {
  await docker.getContainer(b.container).pause();
  frozen = b.container;
}
async function thaw(b: Build): Promise<void> {
  await docker.getContainer(b.container).unpause();
  frozen = undefined;
}

/** Processes waiting for (or holding) the key's lock: work-lock.ts runs `flock --exclusive <file> …` for each. */
function lockQueue(lockFile: string): number {
  let n = 0;
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const argv = fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
      if (argv[0]?.endsWith('flock') && argv.includes('--exclusive') && !argv.includes('--nonblock') && argv.includes(lockFile)) n++;
    } catch {
      // gone meanwhile
    }
  }
  return n;
}

/** A learner on `s`: a ready shell, the step's block typed as a click, its check passing, then the session ended. */
async function learnerPasses(s: ServerProc): Promise<void> {
  const page = await fetch(`${s.url}/labs/${LAB}`);
  const html = await page.text();
  assert.equal(page.status, 200, `the lab page:\n${html.slice(0, 500)}`);
  assert.doesNotMatch(html, /broken-lab/, 'the lab is served, not listed as broken');
  const step = (await loadLabs(labsDir)).labs.find((l) => l.id === LAB)?.steps.find((st) => st.checks.length > 0)?.id;
  assert.ok(step, 'the lab has a checked step');
  const c = await LabClient.open(s.url, LAB, 240_000);
  try {
    await c.click(step, STEP_CODE, 120_000);
    await c.stepPassed(step, 120_000);
  } finally {
    await c.leave();
  }
}

const BROKE = /ENOENT[^\n]*run\/docker\.sock|BROKEN|could not be prepared|unfinished build/;

async function finish(order: string, verify: ReturnType<typeof startVerify>, a: ServerProc, b: ServerProc, build: Build): Promise<void> {
  try {
    await finishChecks(order, verify, a, b, build);
  } finally {
    // The three logs of each order, for whoever reads a failure.
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const slug = order.replace(/\W+/g, '-');
    for (const [who, text] of [['a', a.output()], ['b', b.output()], ['verify', verify.out()]]) fs.writeFileSync(path.join(ARTIFACTS, `shared-data-dir-${slug}-${who}.log`), text!);
  }
}

async function finishChecks(order: string, verify: ReturnType<typeof startVerify>, a: ServerProc, b: ServerProc, build: Build): Promise<void> {
  const code = await verify.code;
  assert.equal(code, 0, `${order}: labs:verify exits 0:\n${verify.out()}`);
  assert.doesNotMatch(verify.out(), BROKE, `${order}: labs:verify`);
  await Promise.all([learnerPasses(a), learnerPasses(b)]);
  // One after the other: the last one out unmounts the template (two stopping at the same instant
  // each see the other and leave it mounted for the next start's reaper).
  await a.stop();
  await b.stop();
  for (const [name, s] of [['server A', a], ['server B', b]] as const) {
    assert.equal(s.proc.exitCode, 0, `${order}: ${name} stops cleanly:\n${s.output()}`);
    assert.doesNotMatch(s.output(), BROKE, `${order}: ${name}:\n${s.output()}`);
  }
  const all = `${verify.out()}\n${a.output()}\n${b.output()}`;
  assert.equal(all.match(/template [0-9a-f]{16}: building/g)?.length, 1, `${order}: one build for three processes:\n${all}`);
  // Nothing of theirs is left: no container of any of the three owners (and no builder of this
  // data dir), no network, volume, loop device, mount, rule or sandbox dir; the finished template only.
  const clean: Inventory = { containers: [], networks: [], volumes: [], loops: [], mounts: [], rules: [], templates: [build.key], sandboxDirs: [] };
  // The last one out detaches the template's loop device; while a just-removed sandbox's mount
  // namespace still holds the file system, the kernel keeps the device until that goes (losetup
  // AUTOCLEAR). So the inventory is read until it is clean, and what it still shows then fails.
  for (const o of [owners.a, owners.b, ...verifyOwners]) {
    let left = await inventory(docker, DATA, o);
    for (let i = 0; i < 150 && !isDeepStrictEqual(left, clean); i++) {
      await new Promise((r) => setTimeout(r, 200));
      left = await inventory(docker, DATA, o);
    }
    const loops = spawnSync('losetup', ['-l', '-n', '-O', 'NAME,BACK-FILE,AUTOCLEAR'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.includes(DATA + '/'));
    assert.deepEqual(left, clean, `${order}: left by ${o}${loops.length ? ` (loop devices: ${loops.join('; ')})` : ''}`);
  }
  const ofTheDir = (await docker.listContainers({ all: true })).filter((c) => Object.values(c.Labels ?? {}).some((v) => v.startsWith(DATA + '/')) || c.Mounts?.some((m) => m.Source?.startsWith(DATA + '/')));
  assert.deepEqual(ofTheDir.map((c) => c.Names[0]), [], `${order}: containers using the data dir`);
}

/** Each order builds afresh: a previous order's template goes (nothing runs, holds or mounts it now). */
function releaseTemplates(): void {
  const dir = path.join(DATA, 'templates');
  for (const key of fs.existsSync(dir) ? fs.readdirSync(dir).filter((e) => !e.startsWith('.')) : []) {
    const r = spawnSync('bash', ['sandbox/host/disk.sh', 'release', path.join(dir, key)], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  }
}

/** One order: from a data dir without the template, everything it started stopped at the end. */
function order(name: string, body: () => Promise<void>): void {
  test(name, { timeout: 900_000 }, async () => {
    releaseTemplates();
    try {
      await body();
    } finally {
      await stopAll();
    }
  });
}

order('labs:verify first; both servers start while its template builds', async () => {
  const verify = startVerify();
  const build = await buildWithEngineUp(verify.noteOwners);
  await freeze(build);
  // Both start-up reaps run over the data dir while the build is mid-way.
  const [a, b] = await Promise.all([startServer('a'), startServer('b')]);
  await until('both servers wait for the build', () => lockQueue(build.lockFile) >= 3, verify.noteOwners);
  await thaw(build);
  await finish('verify first', verify, a, b, build);
});

order('server A first while it builds the template; labs:verify and server B start during the build', async () => {
  const a = await startServer('a');
  const build = await buildWithEngineUp();
  await freeze(build);
  const verify = startVerify();
  const b = await startServer('b');
  await until('labs:verify and server B wait for the build', () => lockQueue(build.lockFile) >= 3, verify.noteOwners);
  await thaw(build);
  await finish('server first', verify, a, b, build);
});

order('both servers at once (one builds, the other waits); then labs:verify during the build', async () => {
  const [a, b] = await Promise.all([startServer('a'), startServer('b')]);
  const build = await buildWithEngineUp();
  await freeze(build);
  const verify = startVerify();
  await until('server B and labs:verify wait for the build', () => lockQueue(build.lockFile) >= 3, verify.noteOwners);
  await thaw(build);
  await finish('both servers first', verify, a, b, build);
});
