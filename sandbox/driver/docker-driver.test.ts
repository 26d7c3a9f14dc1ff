// Integration tests against the real host engine (no mocks). Everything they create is labelled with a
// test owner id and removed in `after`, even when a test fails. Needs root and `npm run setup`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import * as pty from 'node-pty';
import { createDockerSandboxDriver } from './docker-driver.ts';
import { LABELS, type SandboxDriver, type SandboxLimits, type SandboxRef } from './types.ts';

const docker = new Docker({ socketPath: '/var/run/docker.sock' });
const owner = `test-${randomBytes(3).toString('hex')}`;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-it-'));
const log = (m: string, e?: unknown) => process.env.DEBUG && console.error(`[driver] ${m}`, e ?? '');
const hour = () => Date.now() + 3_600_000;
const small: SandboxLimits = { memoryMiB: 512, pids: 256, cpuShares: 512, diskGiB: 1 };
const GO_IMAGES = ['golang:1.19', 'busybox'];

let driver: SandboxDriver;

function hostMounts(under: string): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m === under || m.startsWith(under + '/'));
}

function loopsBackedBy(under: string): string[] {
  const out = execFileSync('losetup', ['-a', '-l', '-n', '-O', 'NAME,BACK-FILE'], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(under));
}

async function sh(ref: SandboxRef, script: string, timeoutMs = 60_000) {
  return driver.exec(ref, ['bash', '-c', script], { timeoutMs });
}

/** Attaches with the host dtach client, types a line, returns what the terminal showed. */
async function typeInto(socket: string, line: string, waitMs: number): Promise<string> {
  const p = pty.spawn('dtach', ['-a', socket, '-E', '-z', '-r', 'winch'], { cols: 100, rows: 30, name: 'xterm-256color' });
  let out = '';
  p.onData((d) => (out += d));
  await new Promise((r) => setTimeout(r, 300));
  p.write(line + '\r');
  await new Promise((r) => setTimeout(r, waitMs));
  p.kill();
  return out;
}

/** pids.current of a sandbox's own cgroup, read on the host for its cgroup mode (v1 or v2, either driver). */
async function hostPidsCurrent(containerId: string): Promise<number> {
  const pid = (await docker.getContainer(containerId).inspect()).State.Pid;
  const lines = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
  const v1 = lines.find((l) => /^\d+:pids:/.test(l));
  const rel = (v1 ?? lines.find((l) => l.startsWith('0::'))!).replace(/^\d+:[^:]*:/, '').replace(/\/init$/, '');
  return Number(fs.readFileSync(v1 ? `/sys/fs/cgroup/pids${rel}/pids.current` : `/sys/fs/cgroup${rel}/pids.current`, 'utf8'));
}

/** Host responsiveness: how long a trivial process spawn takes on the host right now. */
function hostSpawnMs(): number {
  const t = Date.now();
  spawnSync('true');
  return Date.now() - t;
}

before(async () => {
  driver = createDockerSandboxDriver({ dataDir, ownerId: owner, limits: small, log });
});

after(async () => {
  // Remove everything this run created, whatever happened above.
  const d = createDockerSandboxDriver({ dataDir, ownerId: owner, log });
  for (const ref of await d.list()) await d.destroy(ref).catch((e) => console.error('cleanup', e));
  await d.reap({ now: Number.MAX_SAFE_INTEGER, isLive: () => false }).catch((e) => console.error('cleanup', e));
  const nets = await docker.listNetworks({ filters: { label: [`${LABELS.owner}=${owner}`] } });
  for (const n of nets) await docker.getNetwork(n.Id).remove().catch(() => {});
  await driver?.dispose();
  await d.dispose();
  for (const m of hostMounts(dataDir).reverse()) spawnSync('umount', ['-l', m]);
  for (const l of loopsBackedBy(dataDir)) spawnSync('losetup', ['-d', l.split(/\s+/)[0]!]);
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('sandbox driver (real engine)', { concurrency: false }, () => {
  let a: SandboxRef;
  let b: SandboxRef;

  test('the inner engine builds a multi-stage Go image (golang:1.19 -> scratch) and runs it', async () => {
    const assets = fs.mkdtempSync(path.join(dataDir, 'assets-'));
    fs.writeFileSync(
      path.join(assets, 'main.go'),
      'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hello from a static binary") }\n',
    );
    fs.writeFileSync(
      path.join(assets, 'Dockerfile'),
      [
        'FROM golang:1.19 AS builder',
        'WORKDIR /src',
        'COPY main.go .',
        'RUN CGO_ENABLED=0 go build -o /hello main.go',
        'FROM scratch',
        'COPY --from=builder /hello /hello',
        'ENTRYPOINT ["/hello"]',
      ].join('\n'),
    );
    a = await driver.create({ sessionId: `${owner}-s1`, node: 1, images: GO_IMAGES, assetsDir: assets, limits: small, expiresAt: hour() });
    await driver.waitReady(a, { timeoutMs: 60_000 });
    const r = await sh(a, 'cd /root && docker build -q -t hello . && docker run --rm hello', 180_000);
    assert.equal(r.exitCode, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /hello from a static binary/);
    const img = await driver.engine(a).image('hello');
    assert.ok(img, 'the built image is visible through the engine client');
    assert.equal(img.config.entrypoint?.[0], '/hello');
    assert.equal(await driver.engine(a).imageHasPath('hello', '/hello'), true, 'scratch image has /hello');
    assert.equal(await driver.engine(a).imageHasPath('hello', '/bin/sh'), false, 'scratch image has no shell');
  });

  test('the shell is a dtach master reachable from the host, restarted after `exit`', async () => {
    await driver.ensureShell(a);
    assert.ok(fs.lstatSync(a.terminalSocket).isSocket());
    // Attach exactly as the server does: the host's dtach client under a pty.
    // Without the shell's OSC marks (prompt start, command output start) that the page reads.
    const out = (await typeInto(a.terminalSocket, 'echo $((6*7)); stty size', 2_000)).replace(/\x1b\][^\x07]*\x07/g, '');
    assert.match(out, /\[node1\] \/root \$ /, 'prompt names the node');
    assert.match(out, /[\r\n]42\r\n/);
    assert.match(out, /30 100/, 'the pty size reaches the shell');
    // What a learner typing `exit` does: the dtach master goes away with its shell.
    await sh(a, 'pkill -x dtach; sleep 0.3');
    await driver.ensureShell(a);
    const r = await sh(a, 'pgrep -x dtach | wc -l');
    assert.equal(r.stdout.trim(), '1');
  });

  test('a socket swapped for a symlink to the host engine is refused', async () => {
    const c = await sh(a, 'mv /run/lab/docker.sock /run/lab/real.sock && ln -s /var/run/docker.sock /run/lab/docker.sock');
    assert.equal(c.exitCode, 0);
    try {
      // A fresh client (no cached link) must refuse rather than reach the host's docker.sock.
      const fresh = createDockerSandboxDriver({ dataDir, ownerId: owner, log });
      fs.rmSync(a.engineSocket, { force: true });
      assert.equal(await fresh.engine(a).ping(), false);
      await assert.rejects(fresh.engine(a).imageTags(), /not a unix socket/);
    } finally {
      await sh(a, 'rm /run/lab/docker.sock && mv /run/lab/real.sock /run/lab/docker.sock');
    }
    assert.equal(await driver.engine(a).ping(), true);
  });

  test('a fork bomb stays inside its sandbox', async () => {
    b = await driver.create({ sessionId: `${owner}-s1`, node: 2, images: GO_IMAGES, limits: small, expiresAt: hour() });
    await driver.waitReady(b);
    const bomb = driver.exec(b, ['bash', '-c', 'bomb() { bomb | bomb & }; bomb; sleep 30'], { timeoutMs: 12_000 });
    // The bomb grows to the cap (how fast depends on the machine): poll while it runs.
    let pids = 0;
    for (let i = 0; i < 40 && pids < small.pids - 5; i++) {
      await new Promise((r) => setTimeout(r, 250));
      pids = await hostPidsCurrent(b.containerId);
    }
    assert.ok(pids >= small.pids - 5, `the bomb reached the pids cap (${pids}/${small.pids})`);
    assert.ok(pids <= small.pids);
    const t = Date.now();
    const other = await sh(a, 'echo alive && docker version --format "{{.Server.Version}}"', 20_000);
    assert.equal(other.exitCode, 0, other.stderr);
    assert.match(other.stdout, /alive/);
    assert.ok(await driver.engine(a).ping());
    assert.ok(hostSpawnMs() < 2_000, 'host still spawns processes');
    log(`other sandbox answered in ${Date.now() - t} ms during the fork bomb`);
    await bomb.catch(() => {});
    // Once the bomb is gone the sandbox itself recovers.
    await driver.waitReady(b, { timeoutMs: 30_000 });
  });

  test('a memory hog in an inner container is OOM-killed inside its sandbox', async () => {
    const hog = await sh(b, 'docker run --rm busybox sh -c "tail /dev/zero"; echo "exit=$?"', 60_000);
    assert.match(hog.stdout, /exit=137/, hog.stdout + hog.stderr);
    const st = await driver.status(b);
    assert.equal(st?.running, true, 'the sandbox itself survives');
    assert.ok(await driver.engine(b).ping(), 'its engine still answers');
    assert.equal((await sh(a, 'echo alive')).stdout.trim(), 'alive');
    assert.ok(hostSpawnMs() < 2_000);
  });

  test('a disk filler fills its own disk cap, not the host', async () => {
    const fill = await sh(b, 'docker run --rm busybox dd if=/dev/zero of=/fill bs=1M count=3000 2>&1; df -m /var/lib/docker | tail -1', 120_000);
    assert.match(fill.stdout, /No space left on device/, fill.stdout);
    const used = Number(fill.stdout.trim().split('\n').at(-1)!.split(/\s+/)[2]);
    assert.ok(used <= 1024, `the sandbox used ${used} MiB of its 1 GiB`);
    // On the host the sandbox is one sparse file: what it occupies is bounded by the cap.
    const img = fs.statSync(path.join(dataDir, 'sandboxes', b.id, 'disk.img'));
    const hostUsedMiB = (img.blocks * 512) / 1024 / 1024;
    assert.ok(hostUsedMiB <= 1024 + 64, `the sandbox occupies ${hostUsedMiB.toFixed(0)} MiB on the host`);
    assert.equal((await sh(a, 'echo ok > /root/still-writable && cat /root/still-writable')).stdout.trim(), 'ok');
    assert.ok(await driver.engine(b).ping());
    await sh(b, 'docker system prune -f >/dev/null');
  });

  test('a learner sees no host files and no other session', async () => {
    const marker = path.join(path.dirname(dataDir), `lablab-host-marker-${randomBytes(3).toString('hex')}`);
    fs.writeFileSync(marker, 'host secret');
    const other = await driver.create({ sessionId: `${owner}-s2`, node: 1, images: [], limits: small, expiresAt: hour() });
    try {
      await driver.waitReady(other, { images: [] });
      const r = await sh(a, `test -e ${marker} && echo VISIBLE; ls ${dataDir} 2>&1 | head -1; echo done`);
      assert.doesNotMatch(r.stdout, /VISIBLE/);
      assert.match(r.stdout, /No such file/);
      // Same session: reachable by name. Other session: neither by name nor by address.
      assert.equal((await sh(a, 'ping -c1 -W2 node2 >/dev/null && echo reach')).stdout.trim(), 'reach');
      const info = await docker.getContainer(other.containerId).inspect();
      const ip = Object.values(info.NetworkSettings.Networks)[0]?.IPAddress;
      assert.ok(ip, 'the other sandbox has an address');
      const cross = await sh(a, `ping -c1 -W2 ${ip} >/dev/null && echo reach; getent hosts ${other.name} || echo noname`);
      assert.doesNotMatch(cross.stdout, /reach/);
      assert.match(cross.stdout, /noname/);
      // No engine but its own answers from inside: not the host's, not the other session's. Every unix
      // socket in the sandbox is asked for the Docker engine ID behind it (dtach's is skipped: bytes
      // sent to it would be typed into the learner's shell).
      const engineId = async (ref: SandboxRef) => (await sh(ref, "docker info --format '{{.ID}}'")).stdout.trim();
      const hostId = (await docker.info()).ID as string;
      const ownId = await engineId(a);
      const otherId = await engineId(other);
      assert.ok(ownId && otherId && new Set([hostId, ownId, otherId]).size === 3, `three distinct engines: ${hostId} ${ownId} ${otherId}`);
      // find sees sockets in directories; a socket bind-mounted onto a file shows its placeholder's
      // type there, so mount points that are sockets are added from mountinfo.
      const probe = await sh(a, [
        '{ find / \\( -path /proc -o -path /sys -o -path /dev -o -path /var/lib/docker \\) -prune -o -type s -print 2>/dev/null;',
        "  awk '{print $5}' /proc/self/mountinfo | while read -r m; do [ -S \"$m\" ] && echo \"$m\"; done; } | sort -u |",
        'while read -r s; do',
        '  case "$s" in */term.sock) echo "$s dtach"; continue;; esac',
        '  id=$(timeout 5 docker -H "unix://$s" info --format "{{.ID}}" 2>/dev/null) && echo "$s $id" || echo "$s -"',
        'done',
      ].join('\n'), 120_000);
      log(`sockets in the sandbox and the engine behind each:\n${probe.stdout}`);
      const answers = probe.stdout.trim().split('\n').map((l) => l.split(' ') as [string, string]);
      const by = (id: string) => answers.filter(([, x]) => x === id).map(([sock]) => sock);
      assert.ok(by(ownId).length > 0, `the probe finds the sandbox's own engine: ${probe.stdout}`);
      assert.deepEqual(by(hostId), [], 'the host engine answers on a socket inside the sandbox');
      assert.deepEqual(by(otherId), [], "another session's engine answers on a socket inside the sandbox");
      // And the only shell socket is this sandbox's own.
      assert.deepEqual(answers.filter(([, x]) => x === 'dtach').map(([sock]) => sock), ['/run/lab/term.sock']);
    } finally {
      fs.rmSync(marker, { force: true });
      await driver.destroy(other);
    }
  });

  test('shared template layers are read-only and host disks unreadable', async () => {
    const r = await sh(
      a,
      [
        // a layer bind-mounted from the shared template (layers the learner built are not mounts)
        "d=$(awk '$5 ~ /overlay2\\/[^/]+\\/diff$/ {print $5}' /proc/self/mountinfo | head -1)",
        'test -n "$d" || echo NO-TEMPLATE-LAYER',
        'touch "$d/x" 2>&1',
        'mount -o remount,rw,bind "$d" 2>&1',
        'touch "$d/x" 2>&1',
        'mount -o remount,rw "$d" 2>&1',
        'touch "$d/x" 2>&1',
        'echo end',
      ].join('; '),
    );
    assert.doesNotMatch(r.stdout, /NO-TEMPLATE-LAYER/);
    assert.match(r.stdout, /Read-only file system/);
    assert.doesNotMatch(r.stdout, /^touch: .*: No such file/m);
    // The file must not have appeared in the template that every sandbox shares.
    const check = await sh(b, 'ls /var/lib/docker/overlay2/*/diff/x 2>/dev/null | wc -l');
    assert.equal(check.stdout.trim(), '0');
    const root = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === '/');
    const [maj, min] = (root?.split(' ')[2] ?? '8:0').split(':');
    const dev = await sh(a, `mknod /dev/hostdisk b ${maj} ${min} 2>&1; head -c 512 /dev/hostdisk >/dev/null 2>&1 && echo READ; rm -f /dev/hostdisk; echo end`);
    assert.doesNotMatch(dev.stdout, /READ/);
  });

  test('destroy leaves nothing behind and is idempotent', async () => {
    const dir = path.join(dataDir, 'sandboxes', b.id);
    await driver.destroy(b);
    await driver.destroy(b);
    await assert.rejects(docker.getContainer(b.containerId).inspect(), (e: { statusCode?: number }) => e.statusCode === 404);
    assert.deepEqual(hostMounts(dir), []);
    assert.deepEqual(loopsBackedBy(dir), []);
    assert.equal(fs.existsSync(dir), false);
    for (const d of [`/sys/fs/cgroup/memory/lablab/${b.id}`, `/sys/fs/cgroup/lablab/${b.id}`]) assert.equal(fs.existsSync(d), false, d);
  });

  test('a sandbox orphaned by a killed server is reaped on the next start', async () => {
    // A separate "server" process creates a sandbox and is killed with SIGKILL.
    const script = [
      `import { createDockerSandboxDriver } from ${JSON.stringify(path.join(path.dirname(fileURLToPath(import.meta.url)), 'docker-driver.ts'))};`,
      `const d = createDockerSandboxDriver({ dataDir: ${JSON.stringify(dataDir)}, ownerId: ${JSON.stringify(owner)} });`,
      `const r = await d.create({ sessionId: 'orphan', node: 1, images: ['busybox'], limits: ${JSON.stringify(small)}, expiresAt: ${hour()} });`,
      `console.log(JSON.stringify(r));`,
      `setInterval(() => {}, 1000);`,
    ].join('\n');
    const file = path.join(dataDir, 'orphan-server.mts');
    fs.writeFileSync(file, script);
    const child = spawn(process.execPath, ['--import', 'tsx', file], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0]!);
      });
      child.on('exit', (code) => reject(new Error(`orphan server exited early (${code})`)));
    });
    child.kill('SIGKILL');
    const orphan = JSON.parse(line) as SandboxRef;
    assert.equal((await driver.status(orphan))?.running, true);
    // The next start: a new driver, whose session store knows nothing of "orphan".
    const next = createDockerSandboxDriver({ dataDir, ownerId: owner, log });
    const reaped = await next.reap({ now: Date.now(), isLive: (s) => s !== 'orphan' });
    assert.ok(reaped.includes(orphan.id), `reaped ${reaped.join(',')}`);
    assert.equal(await driver.status(orphan), null);
    assert.equal(fs.existsSync(path.join(dataDir, 'sandboxes', orphan.id)), false);
    assert.ok((await next.list()).some((r) => r.id === a.id), 'live sandboxes are kept');
    await next.dispose();
  });
});
