// One QEMU virtual machine (TCG: no KVM here), driven over ssh on a 127.0.0.1 port forward.
// Each VM has a state file in <checkout>/.data/host-test/vms/<name>.json so that --exec, --sync and
// the next run can find it; a VM left behind by an earlier run is killed by the next one.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { killGroup, mustRun, run, sleep, type RunResult } from './proc.ts';
import type { Paths } from './paths.ts';

/** Tuning, one place. */
export const VM = {
  cpus: 2,
  memoryMiB: 6144,
  /** Boot to an answering sshd: about 50 s under TCG on a quiet machine, many minutes on a loaded one. */
  bootTimeoutMs: 20 * 60_000,
  shutdownTimeoutMs: 3 * 60_000,
  marker: 'lablab-host-test',
  /** QEMU runs niced on a shared machine (HOST_TEST_NICE=0 for a quiet one). */
  nice: Number(process.env.HOST_TEST_NICE ?? 10),
};

export interface Drive {
  file: string;
  format: 'qcow2' | 'raw';
  readonly?: boolean;
  /** Writes go to a temporary file that QEMU drops at exit. */
  snapshot?: boolean;
}

export interface VmState {
  name: string;
  pid: number;
  sshPort: number;
  disk: string;
  console: string;
  kept: boolean;
  startedAt: string;
}

export interface VmSpec {
  name: string;
  kernel: string;
  initrd: string;
  cmdline?: string;
  drives: Drive[];
  /** Folder for the console log and the qemu log. */
  logDir: string;
}

export interface Vm {
  state: VmState;
  ssh(command: string, opts?: { timeoutMs?: number; input?: string | Buffer; logFile?: string; echo?: boolean }): Promise<RunResult>;
  mustSsh(command: string, opts?: { timeoutMs?: number; input?: string | Buffer; logFile?: string; echo?: boolean }): Promise<RunResult>;
  /** Streams a local readable (e.g. tar output) into a command in the VM. */
  pipeInto(localCmd: string, localArgs: string[], remoteCmd: string, timeoutMs: number, cwd?: string): Promise<void>;
  /** Streams a command's output in the VM into a local command (e.g. tar out of the VM). */
  pipeIntoLocal(remoteCmd: string, localCmd: string, localArgs: string[], timeoutMs: number): Promise<void>;
  /** Clean poweroff, then kill if it does not end in time. */
  shutdown(): Promise<void>;
  kill(): void;
  alive(): boolean;
}

export function sshArgs(paths: Paths, port: number): string[] {
  return [
    '-i', paths.sshKey, '-p', String(port),
    '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR',
    '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=15', '-o', 'ServerAliveInterval=15', '-o', 'ServerAliveCountMax=8',
    'root@127.0.0.1',
  ];
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export function qemuArgs(spec: VmSpec, sshPort: number, pidFile: string): string[] {
  const cmdline = spec.cmdline ?? 'root=/dev/vda rw console=ttyS0 systemd.show_status=1';
  const args = [
    '-name', `${VM.marker}-${spec.name}`,
    '-machine', 'q35', '-accel', 'tcg,thread=multi', '-cpu', 'max',
    '-smp', String(VM.cpus), '-m', String(VM.memoryMiB),
    '-kernel', spec.kernel, '-initrd', spec.initrd, '-append', cmdline,
    '-display', 'none', '-monitor', 'none', '-serial', `file:${path.join(spec.logDir, 'console.log')}`,
    '-netdev', `user,id=n0,hostfwd=tcp:127.0.0.1:${sshPort}-:22`, '-device', 'virtio-net-pci,netdev=n0',
    '-device', 'virtio-rng-pci', '-vga', 'none',
    '-pidfile', pidFile,
  ];
  for (const d of spec.drives) {
    args.push('-drive', `file=${d.file},format=${d.format},if=virtio,cache=unsafe${d.readonly ? ',readonly=on' : ''}${d.snapshot ? ',snapshot=on' : ''}`);
  }
  return args;
}

function isOurQemu(pid: number): boolean {
  try {
    const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmd.includes('qemu-system') && cmd.includes(VM.marker);
  } catch {
    return false;
  }
}

export function readStates(paths: Paths): VmState[] {
  const out: VmState[] = [];
  for (const f of fs.existsSync(paths.vms) ? fs.readdirSync(paths.vms) : []) {
    if (!f.endsWith('.json')) continue;
    try {
      out.push(JSON.parse(fs.readFileSync(path.join(paths.vms, f), 'utf8')) as VmState);
    } catch {
      // a half-written state file: nothing to find there
    }
  }
  return out;
}

/** Kills this checkout's VMs from earlier runs (all of them unless `spareKept`), removes their state. */
export function killLeftovers(paths: Paths, say: (m: string) => void, spareKept = false): void {
  for (const s of readStates(paths)) {
    if (spareKept && s.kept && isOurQemu(s.pid)) continue;
    if (isOurQemu(s.pid)) {
      say(`killing VM ${s.name} (pid ${s.pid}) left by an earlier run`);
      killGroup(s.pid);
      try {
        process.kill(s.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    fs.rmSync(path.join(paths.vms, `${s.name}.json`), { force: true });
  }
}

export function findKept(paths: Paths): VmState | undefined {
  return readStates(paths).filter((s) => isOurQemu(s.pid)).sort((a, b) => b.startedAt.localeCompare(a.startedAt))[0];
}

/** A handle on a VM that already runs (for --exec and --sync). */
export function attachVm(paths: Paths, state: VmState): Vm {
  const ssh: Vm['ssh'] = (command, opts = {}) =>
    run('ssh', [...sshArgs(paths, state.sshPort), command], { timeoutMs: opts.timeoutMs ?? 10 * 60_000, input: opts.input, logFile: opts.logFile, echo: opts.echo });
  const alive = () => isOurQemu(state.pid);
  const kill = () => {
    if (alive()) {
      try {
        process.kill(state.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    fs.rmSync(path.join(paths.vms, `${state.name}.json`), { force: true });
  };
  return {
    state,
    ssh,
    async mustSsh(command, opts) {
      const r = await ssh(command, opts);
      if (r.code !== 0 || r.timedOut) {
        throw new Error(`in the VM: ${command.slice(0, 200)}: ${r.timedOut ? 'timed out' : `exit ${r.code}`}\n${(r.stderr || r.stdout).trim().split('\n').slice(-20).join('\n')}`);
      }
      return r;
    },
    async pipeInto(localCmd, localArgs, remoteCmd, timeoutMs, cwd) {
      // sh -c 'local | ssh …': one pipeline, one deadline.
      const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
      const line = `${[localCmd, ...localArgs].map(q).join(' ')} | ${['ssh', ...sshArgs(paths, state.sshPort), remoteCmd].map(q).join(' ')}`;
      await mustRun('bash', ['-o', 'pipefail', '-c', line], { timeoutMs, cwd });
    },
    async pipeIntoLocal(remoteCmd, localCmd, localArgs, timeoutMs) {
      const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
      const line = `${['ssh', ...sshArgs(paths, state.sshPort), remoteCmd].map(q).join(' ')} | ${[localCmd, ...localArgs].map(q).join(' ')}`;
      await mustRun('bash', ['-o', 'pipefail', '-c', line], { timeoutMs });
    },
    async shutdown() {
      if (!alive()) return kill();
      await ssh('systemctl poweroff', { timeoutMs: 30_000 }).catch(() => undefined);
      const deadline = Date.now() + VM.shutdownTimeoutMs;
      while (alive() && Date.now() < deadline) await sleep(1000);
      kill();
    },
    kill,
    alive,
  };
}

/** Starts QEMU detached (it outlives this process only with --keep) and waits for ssh. */
export async function startVm(paths: Paths, spec: VmSpec, say: (m: string) => void): Promise<Vm> {
  fs.mkdirSync(spec.logDir, { recursive: true });
  const sshPort = await freePort();
  const pidFile = path.join(spec.logDir, 'qemu.pid');
  fs.rmSync(pidFile, { force: true });
  const qemuLog = path.join(spec.logDir, 'qemu.log');
  // -daemonize: QEMU forks once its devices are set up and writes the pid file.
  await mustRun('nice', ['-n', String(VM.nice), 'qemu-system-x86_64', ...qemuArgs(spec, sshPort, pidFile), '-daemonize'], { timeoutMs: 60_000, logFile: qemuLog });
  const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  const state: VmState = { name: spec.name, pid, sshPort, disk: spec.drives[0]!.file, console: path.join(spec.logDir, 'console.log'), kept: false, startedAt: new Date().toISOString() };
  fs.writeFileSync(path.join(paths.vms, `${spec.name}.json`), JSON.stringify(state, null, 2));
  const vm = attachVm(paths, state);
  const t0 = Date.now();
  say(`VM ${spec.name} booting (pid ${pid}, ssh 127.0.0.1:${sshPort}, console ${state.console})`);
  while (true) {
    if (!vm.alive()) throw new Error(`QEMU exited while booting; see ${qemuLog} and ${state.console}`);
    const r = await vm.ssh('true', { timeoutMs: 30_000 });
    if (r.code === 0) break;
    if (Date.now() - t0 > VM.bootTimeoutMs) {
      vm.kill();
      throw new Error(`VM ${spec.name}: no ssh after ${VM.bootTimeoutMs / 1000} s; console: ${state.console}`);
    }
    await sleep(3000);
  }
  say(`VM ${spec.name} up in ${Math.round((Date.now() - t0) / 1000)} s`);
  return vm;
}

export function markKept(paths: Paths, vm: Vm): void {
  vm.state.kept = true;
  fs.writeFileSync(path.join(paths.vms, `${vm.state.name}.json`), JSON.stringify(vm.state, null, 2));
}

/** A throwaway qcow2 on top of a backing disk. */
export async function overlay(file: string, backing: string, backingFormat: 'qcow2' | 'raw' = 'qcow2'): Promise<string> {
  fs.rmSync(file, { force: true });
  await mustRun('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', backingFormat, '-b', backing, file], { timeoutMs: 60_000 });
  return file;
}
