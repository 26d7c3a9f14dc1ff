// Nothing leaks from kill -9: a server killed at each phase of its start (mid template build, mid a
// sandbox create's disk, mid pool fill with the container made) and started again leaves, once that
// second server has reaped and been stopped cleanly, exactly what a clean run leaves: the finished
// template and nothing else. The inventory covers containers, networks and volumes with the test's
// owner label, loop devices and mounts under the data dir, DOCKER-USER rules naming its networks,
// and the template and sandbox dirs. The server runs in its own process group and the whole group
// is killed, as a service manager does; each kill waits for its phase to show on the host, no sleeps.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Docker from 'dockerode';
import { inventory, type Inventory } from '../sandbox/driver/inventory.test-support.ts';
import { removeTestSandboxes } from '../sandbox/driver/test-cleanup.test-support.ts';
import { LABELS } from '../sandbox/driver/types.ts';
import { ROOT, tempDir } from './harness.ts';

const docker = new Docker();
const TOKEN = 'kill-nine-host';
const owner = `k9${process.pid}`;
// Short: sandbox socket paths must stay under 108 bytes.
const DATA = fs.mkdtempSync('/tmp/k9-');
const labsDir = tempDir('kill-nine-labs');
fs.mkdirSync(path.join(labsDir, 'k9'));
fs.writeFileSync(path.join(labsDir, 'k9', 'lab.md'), `---\ntitle: Kill nine\nterms: 1\nimages: [busybox]\n---\n## Look\n\n\`\`\`.term1\ndocker images\n\`\`\`\n`);

const running = new Set<number>();
after(async () => {
  // A failed wait leaves its server running: the whole group goes before the clean-up.
  for (const pid of running) process.kill(-pid, 'SIGKILL');
  await removeTestSandboxes(docker, DATA, owner, () => {});
});

function startServer() {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts', '--port', '0', '--host', '127.0.0.1', '--data', DATA, '--labs', labsDir], {
    cwd: ROOT,
    detached: true,
    // PLAY_IMAGES as the lab's: the playground's pool shape is then the lab's, so one template and one pool unit.
    env: { ...process.env, LABLAB_OWNER: owner, POOL_SIZE: '1', PLAY_IMAGES: 'busybox', DB_FILE: path.join(DATA, 'db.sqlite'), HOST_TOKEN: TOKEN },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  running.add(proc.pid!);
  const exited = new Promise<void>((r) => proc.once('exit', () => (running.delete(proc.pid!), r())));
  return {
    out: () => out,
    url: () => /listening on (http:\/\/\S+)/.exec(out)?.[1]?.replace('localhost', '127.0.0.1'),
    listening: () => until('the server listens', async () => /listening on/.test(out) || (proc.exitCode !== null && assert.fail(`server exited:\n${out}`))),
    async kill9() {
      process.kill(-proc.pid!, 'SIGKILL');
      await exited;
    },
    async stop() {
      proc.kill('SIGTERM');
      await exited;
      assert.equal(proc.exitCode, 0, `clean stop:\n${out}`);
    },
  };
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false): Promise<T> {
  for (let i = 0; i < 30_000; i++) {
    const v = await probe();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`never: ${what}`);
}

const containers = (kind: string) => docker.listContainers({ all: true, filters: { label: [`${LABELS.owner}=${owner}`, `${LABELS.kind}=${kind}`] } });
/** The pool holds its one unit, ready, and nothing is filling (the server's own figures, /metrics). */
async function poolSettled(url: string): Promise<boolean> {
  const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
  return /^lablab_pool_size 1$/m.test(text) && /^lablab_sandboxes\{state="pool_filling"\} 0$/m.test(text);
}

let before: Inventory;
let key: string;

test('a clean run leaves the finished template and nothing else (the inventory to come back to)', async () => {
  const s = startServer();
  await s.listening();
  await until('the pool is filled', () => poolSettled(s.url()!));
  await s.stop();
  before = await inventory(docker, DATA, owner);
  assert.equal(before.templates.length, 1, 'one template');
  key = before.templates[0]!;
  assert.deepEqual({ ...before, templates: [] }, { containers: [], networks: [], volumes: [], loops: [], mounts: [], rules: [], templates: [], sandboxDirs: [] });
});

const phases: { name: string; prepare?: () => void; reached: () => Promise<boolean> }[] = [
  {
    name: 'mid template build (builder running)',
    // Without the template the start-up build runs again.
    prepare: () => assert.equal(spawnSync('bash', ['sandbox/host/disk.sh', 'release', path.join(DATA, 'templates', key)], { cwd: ROOT }).status, 0),
    reached: async () => (await containers('template-builder')).some((c) => c.State === 'running'),
  },
  {
    name: 'mid create (sandbox disk mounted, no container yet)',
    reached: async () => {
      const inv = await inventory(docker, DATA, owner);
      return inv.containers.length === 0 && inv.mounts.some((m) => /\/sandboxes\/[^/]+\/disk$/.test(m));
    },
  },
  {
    name: 'mid pool fill (sandbox container made, network and egress rules in place)',
    reached: async () => (await containers('sandbox')).length > 0 && (await inventory(docker, DATA, owner)).rules.length > 0,
  },
];

for (const phase of phases) {
  test(`kill -9 ${phase.name}, then a restart: the inventory comes back to the clean run's`, async () => {
    phase.prepare?.();
    const s = startServer();
    await until(phase.name, phase.reached);
    await s.kill9();
    const dirty = await inventory(docker, DATA, owner);
    assert.notDeepEqual(dirty, before, 'the kill left something behind for the restart to find');
    const again = startServer();
    await again.listening();
    await until('the restarted server fills its pool', () => poolSettled(again.url()!));
    await again.stop();
    assert.deepEqual(await inventory(docker, DATA, owner), before, `left after the restart:\n${again.out()}`);
  });
}
