// npm run test:hosts: boots Debian hosts under QEMU, runs the project in each as the README says,
// prints one line per case and then a line of JSON (other tools read it). Process glue only.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseHostTestArgs, USAGE, UsageError, type HostTestOptions } from './args.ts';
import { CASES, caseLine, caseResult, type CaseResult, type Measured } from './cases.ts';
import { ensureBaseImage } from './base-image.ts';
import { ensureDockerDisk, GUEST_MOUNT_DOCKER } from './docker-disk.ts';
import { copyProject, ensurePayloadDisk, GUEST_PREPARE, GUEST_PROJECT } from './payload.ts';
import { makeDirs, pathsFor, PROJECT_ROOT, type Paths } from './paths.ts';
import { mustRun, run } from './proc.ts';
import { attachVm, findKept, killLeftovers, markKept, overlay, sshArgs, startVm, type Vm } from './vm.ts';

const say = (m: string) => console.error(`[host-test ${new Date().toISOString().slice(11, 19)}] ${m}`);
const GUEST_OUT = '/root/host-test-out';
/** Whole-case deadline inside the VM (the steps have their own, shorter ones). */
const CASE_TIMEOUT_MS = 4 * 3600_000;

/** Host tools, installed with apt-get when absent (this command only; not setup.sh's list). */
const HOST_TOOLS: [cmd: string, pkg: string][] = [
  ['qemu-system-x86_64', 'qemu-system-x86'], ['qemu-img', 'qemu-utils'], ['debootstrap', 'debootstrap'],
  ['mkfs.ext4', 'e2fsprogs'], ['ssh', 'openssh-client'], ['ssh-keygen', 'openssh-client'], ['git', 'git'], ['tar', 'tar'],
];

async function ensureHostTools(): Promise<void> {
  const have = (c: string) => run('sh', ['-c', `command -v ${c}`], { timeoutMs: 10_000 }).then((r) => r.code === 0);
  const missing: string[] = [];
  for (const [cmd, pkg] of HOST_TOOLS) if (!(await have(cmd)) && !missing.includes(pkg)) missing.push(pkg);
  if (!missing.length) return;
  if (process.getuid?.() !== 0) throw new Error(`missing host tools; as root run: apt-get install -y ${missing.join(' ')}`);
  say(`apt-get install ${missing.join(' ')}`);
  await mustRun('apt-get', ['update', '-qq'], { timeoutMs: 10 * 60_000 });
  await mustRun('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { timeoutMs: 20 * 60_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

function ensureSshKey(paths: Paths): void {
  if (!fs.existsSync(paths.sshKey)) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'lablab-host-test', '-f', paths.sshKey]);
}

function howToReach(paths: Paths, vm: Vm): string {
  return [
    `VM ${vm.state.name} kept running (pid ${vm.state.pid}); the project is in ${GUEST_PROJECT}.`,
    `  npm run test:hosts -- --exec 'docker info'     npm run test:hosts -- --sync     npm run test:hosts -- --stop`,
    `  ssh ${sshArgs(paths, vm.state.sshPort).join(' ')}`,
    `  console log: ${vm.state.console}`,
  ].join('\n');
}

let current: Vm | undefined;
let keepCurrent = false;

async function runCases(paths: Paths, opts: Extract<HostTestOptions, { mode: 'run' }>): Promise<number> {
  await ensureHostTools();
  ensureSshKey(paths);
  const kept = opts.reuse ? findKept(paths) : undefined;
  if (opts.reuse && !kept) throw new Error('--reuse: no kept VM for this checkout (start one with --keep or --skip-tests)');
  killLeftovers(paths, say, opts.reuse);
  const runDir = path.join(paths.runs, new Date().toISOString().replace(/[:.]/g, '-'));
  fs.mkdirSync(runDir, { recursive: true });
  say(`logs: ${runDir}`);
  // The project's own setup on this host: the images to ship and sandbox/.image-tag.
  say('bash sandbox/host/setup.sh (this host: images and sandbox/.image-tag)');
  await mustRun('bash', ['sandbox/host/setup.sh'], { cwd: PROJECT_ROOT, timeoutMs: 60 * 60_000, logFile: path.join(runDir, 'host-setup.log') });

  const results: CaseResult[] = [];
  const lines: string[] = [];
  for (const n of opts.cases) {
    const c = CASES.find((x) => x.n === n)!;
    const dir = path.join(runDir, `case-${n}`);
    fs.mkdirSync(dir, { recursive: true });
    const base = await ensureBaseImage(paths, c.suite, PROJECT_ROOT, say);
    const docker = await ensureDockerDisk(paths, PROJECT_ROOT, say);
    const payload = await ensurePayloadDisk(paths, PROJECT_ROOT, say);
    const disk = path.join(paths.work, `case-${n}.qcow2`);
    const dockerDisk = path.join(paths.work, `case-${n}-docker.qcow2`);
    const keepThis = opts.keep && n === opts.cases[opts.cases.length - 1];
    if (!kept) {
      await overlay(disk, base.disk);
      await overlay(dockerDisk, docker.file, 'raw');
    }
    const vm = kept ? attachVm(paths, kept) : await startVm(paths, {
      name: `case-${n}`,
      kernel: base.kernel,
      initrd: base.initrd,
      // The payload disk is shared by every case: its writes go to a throwaway snapshot.
      // vda: the system; vdb: node and node_modules; vdc: /var/lib/docker with the images.
      drives: [{ file: disk, format: 'qcow2' }, { file: payload, format: 'raw', snapshot: true }, { file: dockerDisk, format: 'qcow2' }],
      logDir: dir,
    }, say);
    current = vm;
    keepCurrent = keepThis;
    try {
      const files = await copyProject(vm, paths, PROJECT_ROOT);
      await vm.mustSsh(GUEST_PREPARE, { timeoutMs: 5 * 60_000, logFile: path.join(dir, 'prepare.log') });
      const images = await vm.mustSsh(GUEST_MOUNT_DOCKER, { timeoutMs: 15 * 60_000, logFile: path.join(dir, 'prepare.log') });
      say(`case ${n}: project (${files} files), node, node_modules and images in place: ${images.stdout.trim()}`);
      const prep = await vm.mustSsh(c.prepare, { timeoutMs: 10 * 60_000, logFile: path.join(dir, 'prepare.log') });
      say(`case ${n}: ${c.title}: ${prep.stdout.trim().split('\n').pop()}`);
      if (opts.skipTests) {
        lines.push(`case ${n} ${c.host}: booted, nothing measured (--skip-tests)`);
      } else {
        say(`case ${n}: measuring (${opts.steps.join(',')}); live log: ${path.join(dir, 'case.log')}`);
        await vm.ssh(`rm -rf ${GUEST_OUT}; bash ${GUEST_PROJECT}/sandbox/host-test/guest/case.sh ${GUEST_OUT} ${opts.steps.join(',')}`, { timeoutMs: CASE_TIMEOUT_MS, logFile: path.join(dir, 'case.log'), echo: true });
        await vm.pipeIntoLocal(`tar -C ${GUEST_OUT} -cf - .`, 'tar', ['-xf', '-', '-C', dir], 10 * 60_000);
        const read = (f: string) => (fs.existsSync(path.join(dir, f)) ? fs.readFileSync(path.join(dir, f), 'utf8') : undefined);
        const learner = read('learner.json');
        const m: Measured = {
          facts: read('facts.txt'),
          startLog: read('npm-start.log'),
          start: read('start.txt'),
          learner: learner ? JSON.parse(learner) : undefined,
          limitsTap: read('limits.tap'),
          routesTap: read('routes.tap'),
          verifyExit: read('labs-verify.exit'),
        };
        const r = caseResult(c, m);
        results.push(r);
        lines.push(caseLine(c, r, m, dir));
        fs.writeFileSync(path.join(dir, 'result.json'), JSON.stringify(r) + '\n');
      }
    } finally {
      if (keepThis) {
        markKept(paths, vm);
        say(howToReach(paths, vm));
      } else {
        await vm.shutdown();
        fs.rmSync(disk, { force: true });
        fs.rmSync(dockerDisk, { force: true });
      }
      current = undefined;
    }
  }
  for (const l of lines) console.log(l);
  console.log(JSON.stringify({ cases: results }));
  return 0;
}

async function main(): Promise<number> {
  let opts: HostTestOptions;
  try {
    opts = parseHostTestArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`test:hosts: ${err.message}\n${USAGE}`);
    return 2;
  }
  if (opts.mode === 'help') {
    console.log(USAGE);
    return 0;
  }
  const paths = pathsFor(PROJECT_ROOT);
  makeDirs(paths);
  if (opts.mode === 'run') return runCases(paths, opts);
  const kept = findKept(paths);
  if (!kept) {
    console.error('test:hosts: no kept VM for this checkout (start one with --keep or --skip-tests)');
    return 1;
  }
  const vm = attachVm(paths, kept);
  if (opts.mode === 'stop') {
    await vm.shutdown();
    say(`VM ${kept.name} stopped`);
    return 0;
  }
  if (opts.mode === 'sync') {
    const files = await copyProject(vm, paths, PROJECT_ROOT);
    await vm.mustSsh(GUEST_PREPARE, { timeoutMs: 5 * 60_000 });
    say(`synced ${files} files into ${kept.name}:${GUEST_PROJECT}`);
    return 0;
  }
  const r = await vm.ssh(`cd ${GUEST_PROJECT} && ${opts.command}`, { timeoutMs: 4 * 3600_000, echo: true });
  if (r.timedOut) console.error('test:hosts: --exec timed out');
  return r.code ?? 1;
}

function onSignal(sig: string): void {
  say(`${sig}: ${current && !keepCurrent ? `killing VM ${current.state.name}` : 'stopping'}`);
  if (current && !keepCurrent) current.kill();
  process.exit(130);
}
process.on('SIGINT', () => onSignal('SIGINT'));
process.on('SIGTERM', () => onSignal('SIGTERM'));

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`test:hosts: ${err instanceof Error ? err.message : String(err)}`);
    if (current && !keepCurrent) current.kill();
    process.exit(1);
  },
);
