// Adversarial: the sandbox is a boundary. A learner is root in the sandbox with the whole Docker CLI
// and any image; each route to the host kernel is tried from the learner's shell and from inner
// containers asking for everything (--privileged; all capabilities with seccomp and AppArmor off and
// every host namespace; Compose and Swarm asking the same) and must be refused. Refusal is shown by
// access checks only (an open for append that writes nothing, a mount or mknod that fails), never by
// writing a host file. See sandbox/README.md ("The boundary") for the table of routes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createDockerSandboxDriver } from '../driver/docker-driver.ts';
import type { SandboxRef } from '../driver/types.ts';
import { SANDBOX_UID_BASE } from '../driver/userns.ts';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-bd-'));
// LABLAB_TEST_NO_BOUNDARY=1: the same tests against sandboxes without the user namespace (the defence
// removed), which must fail.
const noBoundary = process.env.LABLAB_TEST_NO_BOUNDARY === '1';
const driver = createDockerSandboxDriver({
  dataDir,
  sandboxImage: process.env.SANDBOX_IMAGE || undefined,
  ownerId: `test-bd-${randomBytes(3).toString('hex')}`,
  ...(noBoundary ? { boundary: 'host' as const, allowHostAccess: true } : {}),
  log: () => {},
});
const LIMITS = { memoryMiB: 768, pids: 512, cpuShares: 512, diskGiB: 2 };
const IMAGES = ['busybox'];
const sessions: string[] = [];
let a: SandboxRef;
let b: SandboxRef;

async function sandbox(): Promise<SandboxRef> {
  const sessionId = `bd-${randomBytes(3).toString('hex')}`;
  sessions.push(sessionId);
  const network = await driver.createSessionNetwork(sessionId);
  const ref = await driver.create({ sessionId, node: 1, images: IMAGES, network, limits: LIMITS, expiresAt: Date.now() + 1_800_000 });
  await driver.waitReady(ref, { images: IMAGES, timeoutMs: 600_000 });
  return ref;
}

/** The learner's own shell: the world, as the terminal runs it. */
const learner = (ref: SandboxRef, script: string, timeoutMs = 60_000) => driver.exec(ref, ['bash', '-c', script], { timeoutMs, world: true });

/** Inner containers asking for everything a learner can ask the inner engine for. */
const INNER: Record<string, string> = {
  '--privileged': 'docker run --rm --privileged -v /:/host busybox sh -c',
  'all capabilities, seccomp and AppArmor off, every host namespace, the root bound in': [
    'docker run --rm --cap-add ALL --security-opt seccomp=unconfined --security-opt apparmor=unconfined',
    '--pid host --net host --ipc host --uts host --userns host -v /:/host busybox sh -c',
  ].join(' '),
};

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Runs a POSIX sh probe in the learner's shell and in every inner container; returns the outputs. */
async function everywhere(ref: SandboxRef, probe: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const shell = await learner(ref, probe);
  out['learner shell'] = shell.stdout + shell.stderr;
  for (const [name, run] of Object.entries(INNER)) {
    const r = await learner(ref, `${run} ${q(probe)}`, 120_000);
    out[name] = r.stdout + r.stderr;
  }
  return out;
}

function assertRefused(outs: Record<string, string>, mustHaveTried: RegExp) {
  for (const [where, out] of Object.entries(outs)) {
    assert.match(out, /PROBE-DONE/, `${where}: the probe ran to its end\n${out}`);
    assert.doesNotMatch(out, /ESCAPE/, `${where}:\n${out}`);
    assert.match(out, mustHaveTried, `${where}: the route was really tried\n${out}`);
  }
}

/** `w FILE`: opening for append is an access check that writes nothing. */
const W = `w() { [ -e "$1" ] || return 0; if (exec 3>>"$1") 2>/dev/null; then echo "ESCAPE: $1 is writable"; else echo "refused: $1"; fi; }`;

before(async () => {
  [a, b] = await Promise.all([sandbox(), sandbox()]);
});

after(async () => {
  await driver.reap({ now: Number.MAX_SAFE_INTEGER, isLive: () => false });
  for (const s of sessions) await driver.removeSessionNetwork(s).catch(() => {});
  await driver.dispose();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test('host sysctls through the live or a fresh procfs or sysfs: core_pattern, modprobe, uevent_helper, sysrq-trigger', { timeout: 600_000 }, async () => {
  const probe = `${W}
mkdir -p /tmp/p /tmp/s; mount -t proc proc /tmp/p 2>/dev/null; mount -t sysfs sysfs /tmp/s 2>/dev/null
for f in /proc/sys/kernel/core_pattern /proc/sys/kernel/modprobe /proc/sysrq-trigger /sys/kernel/uevent_helper \\
         /tmp/p/sys/kernel/core_pattern /tmp/p/sys/kernel/modprobe /tmp/p/sysrq-trigger /tmp/s/kernel/uevent_helper \\
         /host/proc/sys/kernel/core_pattern; do w "$f"; done
echo PROBE-DONE`;
  assertRefused(await everywhere(a, probe), /refused: \/proc\/sys\/kernel\/core_pattern[\s\S]*refused: \/tmp\/p\/sys\/kernel\/core_pattern/);
});

test('the cgroup v1 release_agent (CVE-2022-0492), in the live hierarchies, a fresh mount and a new cgroup namespace', { timeout: 600_000 }, async () => {
  const probe = `${W}
for c in memory pids cpu rdma freezer; do
  mkdir -p /tmp/cg-$c
  if mount -t cgroup -o $c cgroup /tmp/cg-$c 2>/dev/null; then w /tmp/cg-$c/release_agent; else echo "refused: mount cgroup $c"; fi
done
for f in /sys/fs/cgroup/*/release_agent /sys/fs/cgroup/release_agent; do w "$f"; done
unshare -C sh -c 'mkdir -p /tmp/cgn; if mount -t cgroup -o memory cgroup /tmp/cgn 2>/dev/null; then if (exec 3>>/tmp/cgn/release_agent) 2>/dev/null; then echo "ESCAPE: release_agent in a new cgroup namespace"; else echo "refused: cgns release_agent"; fi; else echo "refused: cgns mount"; fi'
echo PROBE-DONE`;
  assertRefused(await everywhere(a, probe), /refused: (mount cgroup memory|\/tmp\/cg-memory\/release_agent)/);
});

test('debugfs, tracefs, securityfs, configfs and bpffs cannot be mounted', { timeout: 600_000 }, async () => {
  const probe = `for fs in debugfs tracefs securityfs configfs bpf; do
  mkdir -p /tmp/m-$fs
  if mount -t $fs none /tmp/m-$fs 2>/dev/null; then echo "ESCAPE: $fs mounted"; umount /tmp/m-$fs; else echo "refused: $fs"; fi
done
ls /sys/kernel/debug /sys/kernel/tracing /sys/kernel/security 2>/dev/null | grep -v '^/' | grep . && echo "ESCAPE: a kernel filesystem is already there"
echo PROBE-DONE`;
  assertRefused(await everywhere(a, probe), /refused: debugfs[\s\S]*refused: tracefs[\s\S]*refused: bpf/);
});

test('kernel modules, kexec, raw disks and memory, another sandbox\'s loop device', { timeout: 600_000 }, async () => {
  const [maj, min] = (execFileSync('findmnt', ['-no', 'MAJ:MIN', '/']).toString().trim() || '254:0').split(':');
  // B's disk: a loop device on the host; its number is all A would need.
  const loops = execFileSync('losetup', ['-j', path.join(dataDir, 'sandboxes', b.id, 'disk.img'), '-O', 'NAME', '-n']).toString().trim();
  const loopMinor = /loop(\d+)/.exec(loops)?.[1] ?? '0';
  const probe = `
dev() { # dev NAME TYPE MAJ MIN
  if mknod /tmp/$1 $2 $3 $4 2>/dev/null; then
    if (exec 3</tmp/$1) 2>/dev/null; then echo "ESCAPE: opened $1"; else echo "refused: open $1"; fi
  else echo "refused: mknod $1"; fi
}
dev hostdisk b ${maj} ${min}; dev mem c 1 1; dev kmem c 1 2; dev port c 1 4; dev otherloop b 7 ${loopMinor}
for d in /host/dev/mem /dev/mem /dev/kmsg /dev/loop-control /dev/loop${loopMinor}; do
  [ -e "$d" ] && { if (exec 3<"$d") 2>/dev/null; then echo "ESCAPE: opened $d"; else echo "refused: $d"; fi; }
done
printf '\\177ELF' > /tmp/fake.ko
insmod /tmp/fake.ko 2>&1 | grep -qi 'not permitted' && echo "refused: insmod" || { lsmod >/dev/null; echo "refused: insmod (no such tool or bad module)"; }
echo PROBE-DONE`;
  assertRefused(await everywhere(a, probe), /refused: (mknod|open) hostdisk[\s\S]*refused: (mknod|open) otherloop/);
  // finit_module and kexec_load straight as system calls (perl is in the sandbox's own image).
  const r = await learner(a, `perl -e 'open(my $f, "<", "/bin/true") or die; my $p = ""; syscall(313, fileno($f), $p, 0); print "finit_module errno=", 0 + $!, "\\n"; syscall(246, 0, 0, 0, 0); print "kexec_load errno=", 0 + $!, "\\n"'`);
  assert.match(r.stdout, /finit_module errno=1\b/, r.stdout + r.stderr);
  assert.match(r.stdout, /kexec_load errno=1\b/, r.stdout + r.stderr);
});

/** Host pids of a sandbox's processes, with their command line and whether they are in its user namespace. */
function hostInventory(ref: SandboxRef): { pid: number; cmd: string; userns: boolean; capEff: string }[] {
  const top = execFileSync('docker', ['top', ref.containerId, '-eo', 'pid']).toString().trim().split('\n').slice(1);
  const rows = [];
  for (const p of top.map((l) => Number(l.trim())).filter(Boolean)) {
    try {
      const map = fs.readFileSync(`/proc/${p}/uid_map`, 'utf8').trim().split(/\s+/);
      const cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      const capEff = /CapEff:\s*(\w+)/.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? '';
      rows.push({ pid: p, cmd, userns: map[1] === String(SANDBOX_UID_BASE), capEff });
    } catch {
      // exited meanwhile
    }
  }
  return rows;
}

test('no process a learner started or can influence holds a capability on the host (seen from the host)', { timeout: 600_000 }, async () => {
  // The learner starts things: a background job, an inner container, a privileged one.
  await learner(a, 'nohup sleep 600 >/dev/null 2>&1 & docker run -d --name bd-plain busybox sleep 600 >/dev/null; docker run -d --privileged --name bd-priv busybox sleep 600 >/dev/null; echo ok');
  const inv = hostInventory(a);
  const outside = inv.filter((p) => !p.userns);
  // Outside the namespace: only docker-init, the outer init and the DNS relay, which runs as nobody.
  for (const p of outside) {
    const known = /^\/sbin\/docker-init|\/\.lablab\/sbin\/(boot|outer-init)|^socat /.test(p.cmd) || /\/\.lablab\/bin\/busybox sh \/\.lablab\/sbin\/boot/.test(p.cmd);
    assert.ok(known, `a process outside the sandbox's user namespace: ${p.pid} ${p.cmd}`);
    if (p.cmd.startsWith('socat')) assert.equal(p.capEff, '0000000000000000', `the DNS relay holds no capability: ${p.cmd}`);
  }
  const inside = inv.filter((p) => p.userns).map((p) => p.cmd).join('\n');
  for (const must of [/dockerd/, /containerd/, /sleep 600/, /dtach/]) assert.match(inside, must, `in the namespace:\n${inside}`);
  assert.ok(outside.length <= 5, `few processes outside: ${JSON.stringify(outside)}`);
});

test('replacing dockerd, containerd or runc, or editing hostconfig.json, only ever runs them inside the namespace', { timeout: 900_000 }, async () => {
  const recorder = (name: string) => `#!/bin/sh
{ echo "${name}"; cat /proc/self/uid_map; grep CapEff /proc/self/status; } >> /root/ran-as
exec /usr/local/lib/real-${name} "$@"
`;
  await learner(a, [
    'mkdir -p /usr/local/lib; rm -f /root/ran-as',
    // A running binary cannot be written in place (ETXTBSY): a learner removes it and writes anew.
    ...['dockerd', 'containerd', 'runc'].map((n) => `p=$(command -v ${n}); cp "$p" /usr/local/lib/real-${n}; rm -f "$p"; printf %s ${q(recorder(n))} > "$p"; chmod +x "$p"`),
    // A container whose stored config is then rewritten to privileged with every capability.
    'docker create --name bd-hc busybox sh -c "(exec 3>>/proc/sys/kernel/core_pattern) 2>/dev/null && echo ESCAPE-HC || echo refused-hc" >/dev/null',
    'pkill -x dockerd; sleep 0.5; pkill -x containerd; true',
  ].join('\n'));
  // init restarts dockerd (now the recorder), which starts the recorded containerd.
  let ready = '';
  for (let i = 0; i < 120 && !/dockerd[\s\S]*containerd/.test(ready); i++) {
    await new Promise((r) => setTimeout(r, 1000));
    ready = (await learner(a, 'cat /root/ran-as 2>/dev/null; docker version >/dev/null 2>&1 && echo ENGINE-UP')).stdout;
  }
  const id = (await learner(a, 'docker inspect -f {{.Id}} bd-hc')).stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  const r = await learner(a, [
    `f=/var/lib/docker/containers/${id}/hostconfig.json`,
    'pkill -x dockerd; sleep 1',
    `sed -i 's/"Privileged":false/"Privileged":true/; s/"CapAdd":null/"CapAdd":["ALL"]/' "$f"`,
    'for i in $(seq 60); do docker version >/dev/null 2>&1 && break; sleep 1; done',
    'docker start -a bd-hc; docker run --rm busybox true; cat /root/ran-as',
  ].join('\n'), 180_000);
  const out = r.stdout + r.stderr;
  assert.match(out, /refused-hc/, out);
  assert.doesNotMatch(out, /ESCAPE/, out);
  for (const n of ['dockerd', 'containerd', 'runc']) {
    const block = new RegExp(`${n}\\s+0\\s+${SANDBOX_UID_BASE}\\s+65536`);
    assert.match(out, block, `${n} ran, inside the namespace:\n${out}`);
  }
  assert.doesNotMatch(out, /^\s*0\s+0\s+4294967295/m, `nothing ran in the host's namespace:\n${out}`);
});

test('the host-privileged parts cannot be changed or shadowed: /.lablab, docker-init, and a second boot', { timeout: 600_000 }, async () => {
  const r = await learner(b, `
echo x >> /.lablab/sbin/outer-init 2>/dev/null && echo "ESCAPE: outer-init written" || echo "refused: write outer-init"
mv /.lablab /lablab-moved 2>/dev/null && echo "ESCAPE: /.lablab moved" || echo "refused: move /.lablab"
echo x >> /sbin/docker-init 2>/dev/null && echo "ESCAPE: docker-init written" || echo "refused: write docker-init"
printf '#!/bin/sh\\necho SHADOWED > /root/shadow\\n' > /tmp/evil; chmod +x /tmp/evil
mount --bind /tmp/evil /.lablab/bin/enter && echo "shadowed in the world only"
echo PROBE-DONE`);
  assert.match(r.stdout, /PROBE-DONE/);
  assert.doesNotMatch(r.stdout, /ESCAPE/, r.stdout);
  // The server's execs keep the container's own mount table: the real entry, into the namespace.
  const e = await driver.exec(b, ['cat', '/proc/self/uid_map']);
  assert.match(e.stdout, new RegExp(`^\\s*0\\s+${SANDBOX_UID_BASE}\\s+65536`), e.stdout + e.stderr);
  assert.equal((await learner(b, 'cat /root/shadow 2>/dev/null; true')).stdout.trim(), '', 'the learner\'s shadow never ran');
  // A learner may have rewritten the root filesystem by now: a second boot is refused.
  execFileSync('docker', ['restart', '-t', '2', b.containerId]);
  let st = '';
  for (let i = 0; i < 60; i++) {
    st = execFileSync('docker', ['inspect', '-f', '{{.State.Running}} {{.State.ExitCode}}', b.containerId]).toString().trim();
    if (st.startsWith('false')) break;
    await new Promise((res) => setTimeout(res, 500));
  }
  assert.equal(st, 'false 70', 'a restarted sandbox refuses to boot');
  assert.match(execFileSync('docker', ['logs', '--tail', '5', b.containerId], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).toString() + '', /.*/);
});

test('Compose and Swarm asking for privileges get them inside the namespace only', { timeout: 900_000 }, async () => {
  const probe = `${W}; mkdir -p /tmp/p; mount -t proc proc /tmp/p 2>/dev/null; w /proc/sys/kernel/core_pattern; w /tmp/p/sys/kernel/core_pattern; w /host/proc/sys/kernel/core_pattern; mount -t debugfs none /mnt 2>/dev/null && echo "ESCAPE: debugfs" || echo "refused: debugfs"; echo PROBE-DONE`;
  const compose = [
    'services:',
    '  x:',
    '    image: busybox',
    '    privileged: true',
    '    cap_add: [ALL]',
    '    security_opt: ["seccomp=unconfined", "apparmor=unconfined"]',
    '    pid: host',
    '    network_mode: host',
    '    volumes: ["/:/host"]',
    // $$ is Compose's escape for a literal $.
    `    command: ["sh", "-c", ${JSON.stringify(probe.replace(/\$/g, '$$$$'))}]`,
  ].join('\n');
  const c = await learner(a, `mkdir -p /root/esc && cd /root/esc && printf %s ${q(compose)} > compose.yaml && docker compose run --rm x 2>&1`, 300_000);
  assertRefused({ compose: c.stdout + c.stderr }, /refused: \/proc\/sys\/kernel\/core_pattern/);
  const s = await learner(a, [
    'docker swarm init --advertise-addr eth0 >/dev/null 2>&1 || true',
    `docker service create -d --name bd-esc --restart-condition none --cap-add ALL --mount type=bind,src=/root,dst=/out busybox sh -c ${q(`(${probe}) > /out/svc-out 2>&1`)} >/dev/null`,
    'for i in $(seq 90); do grep -q PROBE-DONE /root/svc-out 2>/dev/null && break; sleep 1; done; cat /root/svc-out',
    'docker service rm bd-esc >/dev/null; docker swarm leave --force >/dev/null 2>&1; true',
  ].join('\n'), 300_000);
  assertRefused({ swarm: s.stdout + s.stderr }, /refused: \/proc\/sys\/kernel\/core_pattern/);
});
