// Adversarial: the known routes out of a sandbox, each tried from inside a real one and each refused.
// Routes tested elsewhere: the host's services (driver/host-isolation.test.ts), raising one's own
// cgroup limits (driver/cgroups.integration.test.ts), private and link-local addresses
// (security/egress.test.ts), filling MAX_SANDBOXES from one client (security/learner-limits.test.ts).
// The table in sandbox/README.md maps every route to its defence and its test.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createDockerSandboxDriver } from '../driver/docker-driver.ts';
import type { SandboxRef } from '../driver/types.ts';
import { evaluateCheck } from '../../server/checks/evaluate.ts';
import type { CheckContext } from '../../server/checks/verdict.ts';
import type { CheckSpec } from '../../server/checks/types.ts';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-rt-'));
const labDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-rt-lab-'));
const driver = createDockerSandboxDriver({ dataDir, sandboxImage: process.env.SANDBOX_IMAGE || undefined, ownerId: `test-rt-${randomBytes(3).toString('hex')}`, log: () => {} });
const LIMITS = { memoryMiB: 768, pids: 512, cpuShares: 512, diskGiB: 2 };
const IMAGES = ['debian:bookworm-slim'];
const sessions: string[] = [];
let a: SandboxRef;
let b: SandboxRef;

async function sandbox(files?: string): Promise<SandboxRef> {
  const sessionId = `rt-${randomBytes(3).toString('hex')}`;
  sessions.push(sessionId);
  const network = await driver.createSessionNetwork(sessionId);
  const ref = await driver.create({ sessionId, node: 1, images: IMAGES, network, assetsDir: files, limits: LIMITS, expiresAt: Date.now() + 900_000 });
  await driver.waitReady(ref, { images: IMAGES });
  return ref;
}

/** How the learner's own commands run: in the world, as the terminal's shell does. */
const learner = (ref: SandboxRef, script: string, timeoutMs = 30_000) => driver.exec(ref, ['bash', '-c', script], { timeoutMs, world: true });

before(async () => {
  fs.writeFileSync(path.join(labDir, 'app.go'), 'package main\n');
  fs.mkdirSync(path.join(labDir, 'step1'));
  fs.writeFileSync(path.join(labDir, 'step1', 'verify.sh'), '#!/bin/bash\ndocker image inspect app:v1\n');
  fs.writeFileSync(path.join(labDir, 'solution.md'), 'the answer\n');
  [a, b] = await Promise.all([sandbox(labDir), sandbox()]);
});

after(async () => {
  await driver.reap({ now: Number.MAX_SAFE_INTEGER, isLive: () => false });
  for (const s of sessions) await driver.removeSessionNetwork(s).catch(() => {});
  await driver.dispose();
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.rmSync(labDir, { recursive: true, force: true });
});

test('load a kernel module: refused', { timeout: 60_000 }, async () => {
  // finit_module(2) on an open file: EPERM from the seccomp profile before the kernel looks at it.
  const r = await learner(a, `perl -e 'open(my $f, "<", "/bin/true") or die; my $p = ""; syscall(313, fileno($f), $p, 0); print 0 + $!'`);
  assert.equal(r.stdout.trim(), '1', `finit_module errno ${r.stdout} ${r.stderr}`);
});

test('read a raw block device of the host, and mount it: refused', { timeout: 60_000 }, async () => {
  const majMin = execFileSync('findmnt', ['-no', 'MAJ:MIN', '/']).toString().trim() || '254:0';
  const [maj, min] = majMin.split(':');
  const r = await learner(a, `mknod /hostdisk b ${maj} ${min} 2>&1; head -c 512 /hostdisk >/dev/null 2>&1 && echo READ; mkdir -p /mnt/h; mount /hostdisk /mnt/h 2>&1 && echo MOUNTED; ls /mnt/h | head -3`);
  assert.doesNotMatch(r.stdout, /READ|MOUNTED/, r.stdout);
});

test('mount debugfs, tracefs, securityfs, configfs: refused', { timeout: 60_000 }, async () => {
  const r = await learner(a, `for fs in debugfs tracefs securityfs configfs; do mkdir -p /mnt/$fs; mount -t $fs none /mnt/$fs 2>/dev/null && echo "$fs MOUNTED" || echo "$fs refused"; done`);
  assert.doesNotMatch(r.stdout, /MOUNTED/, r.stdout);
  assert.equal(r.stdout.trim().split('\n').length, 4, r.stdout + r.stderr);
});

test('write to a shared template layer: refused, even after a remount', { timeout: 60_000 }, async () => {
  const r = await learner(a, `d=$(ls -d /var/lib/docker/overlay2/*/diff | head -1); touch "$d/pwned" 2>&1; mount -o remount,rw "$d" 2>&1; touch "$d/pwned" 2>/dev/null && echo WROTE; echo "layer=$d"`);
  assert.match(r.stdout, /layer=\/var\/lib\/docker\/overlay2\/\w+\/diff/, r.stdout);
  assert.doesNotMatch(r.stdout, /WROTE/, r.stdout);
});

test('reach another session: refused (both sandboxes are this test\'s own)', { timeout: 60_000 }, async () => {
  // A listener in B on its own address; A dials it.
  await driver.exec(b, ['bash', '-c', `nohup perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(LocalPort => 18111, Listen => 5, ReuseAddr => 1) or die; while ($c = $s->accept) { print $c "session-b\\n"; close $c }' >/dev/null 2>&1 &`]);
  const ipB = (await driver.exec(b, ['bash', '-c', `ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1`])).stdout.trim();
  assert.match(ipB, /^\d+\.\d+\.\d+\.\d+$/);
  const self = await driver.exec(b, ['bash', '-c', 'sleep 0.5; exec 3<>/dev/tcp/127.0.0.1/18111 && cat <&3']);
  assert.match(self.stdout, /session-b/, 'control: B serves itself');
  const r = await learner(a, `timeout 5 bash -c 'exec 3<>/dev/tcp/${ipB}/18111 && cat <&3' 2>&1; echo "exit=$?"`);
  assert.doesNotMatch(r.stdout, /session-b/, r.stdout);
});

test('read the answer files: they are not in the sandbox', { timeout: 60_000 }, async () => {
  const r = await learner(a, 'cd /root && find . -name "*.go" -o -name "verify*" -o -name "solution*" | sort');
  assert.match(r.stdout, /app\.go/, 'the lab files arrive');
  assert.doesNotMatch(r.stdout, /verify|solution/, r.stdout);
});

const ctxFor = (ref: SandboxRef): CheckContext => ({
  engine: driver.engine(ref),
  exec: (cmd, o) => driver.exec(ref, cmd, { timeoutMs: o?.timeoutMs }),
  workdir: ref.workdir,
  now: Date.now,
});

test('fake a command check through ~/.profile, ~/.bashrc or /usr/local/bin: the check still fails', { timeout: 60_000 }, async () => {
  const spec = { id: 'c1', line: 1, kind: 'command', run: 'docker image inspect app:v1 --format ok', stdoutContains: 'ok' } as CheckSpec;
  assert.equal((await evaluateCheck(spec, ctxFor(a), { timeoutMs: 20_000 })).status, 'fail', 'control: no image, no pass');
  await learner(a, [
    `printf 'docker() { echo ok; }\\nexport -f docker\\nalias docker="echo ok"\\n' >> /root/.profile`,
    `printf 'docker() { echo ok; }\\n' >> /root/.bashrc`,
    `for t in docker env timeout sh bash; do printf '#!/bin/sh\\necho ok\\n' > /usr/local/bin/$t && chmod +x /usr/local/bin/$t; done`,
  ].join('; '));
  const faked = await learner(a, '/bin/bash -lc "docker image inspect app:v1 --format ok"');
  assert.match(faked.stdout, /ok/, 'the fake works in the learner\'s own login shell');
  const v = await evaluateCheck(spec, ctxFor(a), { timeoutMs: 20_000 });
  assert.equal(v.status, 'fail', v.message);
});

test('a ReDoS pattern against a large output: stopped, reported to the author, the server stays responsive', { timeout: 60_000 }, async () => {
  const spec = { id: 'c2', line: 7, kind: 'command', run: `head -c 1048575 /dev/zero | tr '\\0' a; echo b`, stdoutMatches: '/^(a+)+$/' } as CheckSpec;
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 20);
  const t0 = Date.now();
  const v = await evaluateCheck(spec, ctxFor(a), { timeoutMs: 20_000 });
  clearInterval(ticker);
  assert.notEqual(v.status, 'pass');
  assert.match(v.message, /stopped/, v.message);
  assert.ok(ticks >= (Date.now() - t0) / 20 / 4, `the event loop kept running (${ticks} ticks in ${Date.now() - t0} ms)`);
});
