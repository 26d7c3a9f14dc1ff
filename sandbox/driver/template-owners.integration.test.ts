// Several processes on one data dir, against the real engine: a build belongs to the process holding
// its key's lock. Another process's reap never touches a live build; a build whose process was killed
// (-9) is removed by the next reap, builder container, loop device, mounts and dir; a process stopped
// with SIGTERM removes its own builder.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Docker from 'dockerode';
import { createDockerSandboxDriver } from './docker-driver.ts';
import { inventory } from './inventory.test-support.ts';
import { removeTestSandboxes } from './test-cleanup.test-support.ts';
import { LABELS } from './types.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const docker = new Docker();
const owner = `tmo${process.pid}`;
const dirs: string[] = [];
const procs: ChildProcess[] = [];

after(async () => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) process.kill(-p.pid!, 'SIGKILL');
  for (const d of dirs) await removeTestSandboxes(docker, d, owner, () => {});
  for (const c of await docker.listContainers({ all: true, filters: { label: [`${LABELS.owner}=${owner}`] } })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
});

function dataDir(): string {
  const d = fs.mkdtempSync('/tmp/tmo-');
  dirs.push(d);
  return d;
}

/** A builder process (template-build.test-support.ts) in its own process group, as a service manager runs it. */
function builderProc(dir: string) {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'sandbox/driver/template-build.test-support.ts', dir, owner, 'busybox'], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(proc);
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return { proc, out: () => out, exited };
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>): Promise<T> {
  for (let i = 0; i < 1200; i++) {
    const v = await probe();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`never: ${what}`);
}

const builders = async () => docker.listContainers({ all: true, filters: { label: [`${LABELS.owner}=${owner}`, `${LABELS.kind}=template-builder`] } });
const builderUp = () => until('a template builder is running', async () => (await builders()).find((c) => c.State === 'running'));

/** What another process on the data dir runs: a full reap, as a server's reaper does. */
async function reapFromAnotherProcess(dir: string): Promise<void> {
  const d = createDockerSandboxDriver({ dataDir: dir, ownerId: `${owner}-other`, log: () => {} });
  try {
    await d.reap({ now: Date.now(), isLive: () => false });
  } finally {
    await d.dispose();
  }
}

test('another process reaping while a build runs leaves it alone, and the build completes', async () => {
  const dir = dataDir();
  const a = builderProc(dir);
  await builderUp();
  assert.ok((await inventory(docker, dir, owner)).templates.some((t) => t.includes('.build-')), 'the build dir is there while building');
  await reapFromAnotherProcess(dir);
  await until('the build finishes', async () => /built|build failed/.test(a.out()));
  assert.match(a.out(), /\nbuilt\n/, `the build must not be broken by another process's reap:\n${a.out()}`);
  process.kill(-a.proc.pid!, 'SIGTERM');
  await a.exited;
  const inv = await inventory(docker, dir, owner);
  assert.deepEqual({ ...inv, templates: inv.templates.length }, { containers: [], networks: [], volumes: [], loops: [], mounts: [], rules: [], templates: 1, sandboxDirs: [] }, 'a clean stop leaves the finished template, unmounted');
});

test('a build whose process was killed -9 leaves a builder and a build dir that the next reap removes', async () => {
  const dir = dataDir();
  const b = builderProc(dir);
  await builderUp();
  process.kill(-b.proc.pid!, 'SIGKILL');
  await b.exited;
  const left = await inventory(docker, dir, owner);
  assert.equal(left.containers.length, 1, 'the builder outlives its process');
  await reapFromAnotherProcess(dir);
  assert.deepEqual(await inventory(docker, dir, owner), { containers: [], networks: [], volumes: [], loops: [], mounts: [], rules: [], templates: [], sandboxDirs: [] });
});

test('a process stopped (SIGTERM) mid-build removes its own builder and build dir', async () => {
  const dir = dataDir();
  const c = builderProc(dir);
  await builderUp();
  process.kill(-c.proc.pid!, 'SIGTERM');
  await c.exited;
  assert.deepEqual(await inventory(docker, dir, owner), { containers: [], networks: [], volumes: [], loops: [], mounts: [], rules: [], templates: [], sandboxDirs: [] });
});
