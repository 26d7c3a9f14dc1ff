// Child processes with a deadline: every wait in the host test ends, one way or another.
import { spawn, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface RunOptions extends SpawnOptions {
  timeoutMs: number;
  /** Bytes for stdin. */
  input?: string | Buffer;
  /** Also append stdout and stderr to this file as they come. */
  logFile?: string;
  /** Print output as it comes (stdout of this process). */
  echo?: boolean;
}

/** Runs a command, kills its process group at the deadline. Never rejects for a non-zero exit. */
export function run(cmd: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const { timeoutMs, input, logFile, echo, ...spawnOpts } = opts;
    const child = spawn(cmd, args, { ...spawnOpts, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    const log = logFile ? fs.createWriteStream(logFile, { flags: 'a' }) : undefined;
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const keep = (s: string, d: string) => (s.length > 4_000_000 ? s.slice(-2_000_000) : s) + d;
    child.stdout!.on('data', (d: Buffer) => {
      stdout = keep(stdout, d.toString());
      log?.write(d);
      if (echo) process.stdout.write(d);
    });
    child.stderr!.on('data', (d: Buffer) => {
      stderr = keep(stderr, d.toString());
      log?.write(d);
      if (echo) process.stderr.write(d);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      log?.end();
      reject(new Error(`${cmd}: ${err.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      log?.end();
      resolve({ code, stdout, stderr, timedOut });
    });
    child.stdin!.on('error', () => {}); // the command may exit without reading all of its input
    if (input !== undefined) child.stdin!.end(input);
    else child.stdin!.end();
  });
}

/** Like run(), but a non-zero exit or a timeout is an error carrying the output's tail. */
export async function mustRun(cmd: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0 || r.timedOut) {
    const tail = (r.stderr || r.stdout).trim().split('\n').slice(-20).join('\n');
    throw new Error(`${cmd} ${args.join(' ').slice(0, 200)}: ${r.timedOut ? `timed out after ${opts.timeoutMs / 1000} s` : `exit ${r.code}`}\n${tail}`);
  }
  return r;
}

export function killGroup(pid: number | undefined, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
