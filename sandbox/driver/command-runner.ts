// Short host commands (iptables, the disk script, flock probes, git) run by a small helper process
// instead of this one. On Linux, Node starts a child with fork(2) on the main thread, which copies
// the whole process's page tables before exec: measured here at 7.7 ms for a 234 MB process and
// 34 ms at 425 MB, every spawn, with the event loop stopped. The helper pays that for its few MiB.
// One helper per process, forked on first use and again if it dies; it leaves when we do.
// The helper and what it runs are niced (HELPER_NICE): they share this process's cgroup, and there the
// server's own work comes first. (Measured in a room of arrivals: the server's worst wait for a core,
// 104 ms behind `iptables`, `runc` and shims, did not change beyond the noise; the group as a whole is
// still weighed against others, see the README's "Measured".)
import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'command-runner-child.mjs');
/** The helper's nice value, which the commands it starts inherit: errands, behind the server's own work. */
export const HELPER_NICE = 19;

export interface CommandOptions {
  /** Written to the command's stdin (then closed). */
  input?: string;
  timeoutMs?: number;
  /** Most bytes of stdout or stderr kept (default 4 MiB). */
  maxBuffer?: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export interface CommandResult {
  /** Exit status; null when killed by a signal or never started. */
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** Killed at `timeoutMs`. */
  timedOut: boolean;
  /** It could not be started (ENOENT…), or its output overflowed `maxBuffer`. */
  error?: string;
}

interface Pending {
  resolve(r: CommandResult): void;
  reject(e: Error): void;
}

let helper: ChildProcess | undefined;
const pending = new Map<number, Pending>();
let nextId = 1;

function start(): ChildProcess {
  // No inherited loader, profiler or inspector flags: the helper is plain JavaScript.
  const child = fork(CHILD, [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' });
  // Its main thread, which forks the commands: they inherit it. (Raising a nice value needs no privilege.)
  if (child.pid !== undefined) {
    try {
      os.setPriority(child.pid, HELPER_NICE);
    } catch {
      // it has already exited: the 'exit' handler below says so
    }
  }
  child.on('message', (m: CommandResult & { id: number }) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    const { id: _id, ...result } = m;
    p.resolve(result);
    idle();
  });
  const gone = (why: string) => {
    if (helper === child) helper = undefined;
    for (const [id, p] of pending) {
      pending.delete(id);
      p.reject(new Error(`the command runner ${why}`));
    }
  };
  child.on('exit', (code, signal) => gone(`exited (${signal ?? code})`));
  child.on('error', (err) => gone(`failed: ${err.message}`));
  return child;
}

/** The helper never keeps this process alive on its own. */
function idle(): void {
  if (helper && pending.size === 0) {
    helper.unref();
    (helper.channel as { unref?: () => void } | undefined)?.unref?.();
  }
}

/** Runs `cmd args` (no shell) in the helper; resolves with how it ended, whatever its status. */
export function runCommand(cmd: string, args: readonly string[], opts: CommandOptions = {}): Promise<CommandResult> {
  helper ??= start();
  const h = helper;
  h.ref();
  (h.channel as { ref?: () => void } | undefined)?.ref?.();
  const id = nextId++;
  return new Promise<CommandResult>((resolve, reject) => {
    pending.set(id, { resolve, reject });
    h.send({ id, cmd, args, opts: { input: opts.input, timeoutMs: opts.timeoutMs ?? 0, maxBuffer: opts.maxBuffer ?? 4 << 20, cwd: opts.cwd, env: opts.env } }, (err) => {
      if (!err || !pending.has(id)) return;
      pending.delete(id);
      reject(new Error(`the command runner: ${err.message}`));
      idle();
    });
  });
}

/** The helper's pid while it runs (tests). */
export function commandRunnerPid(): number | undefined {
  return helper?.pid;
}
