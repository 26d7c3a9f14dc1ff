// Which work under DATA_DIR belongs to a live process, told by the kernel: a held flock(2) on a file.
// Node has no flock, so util-linux flock(1) holds it for us, with `cat` reading our stdin pipe as its
// command. When this process ends, in any way (kill -9 included), the pipe closes, cat and flock
// exit and the kernel drops the lock. A lock works across processes, containers and pid namespaces
// on one kernel, and a lock file left behind by a dead process is simply free.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { runCommand } from './command-runner.ts';

export interface HeldLock {
  /** Drops the lock (idempotent); the file stays. */
  release(): Promise<void>;
}

/**
 * Takes an exclusive lock on `file` (created if missing). With `wait`, blocks until it is free;
 * without, resolves to null at once when another process holds it.
 */
export function holdLock(file: string, opts: { wait: boolean }): Promise<HeldLock | null> {
  const child = spawn('flock', ['--exclusive', ...(opts.wait ? [] : ['--nonblock']), file, 'sh', '-c', 'echo held; exec cat >/dev/null'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    let held = false;
    child.stdout!.on('data', (d: Buffer) => {
      if (held || !String(d).includes('held')) return;
      held = true;
      // Once held, the holder must not keep this process alive (and it cannot outlive it).
      child.unref();
      for (const s of [child.stdin, child.stdout, child.stderr] as unknown as { unref?: () => void }[]) s.unref?.();
      resolve({
        async release() {
          child.ref(); // wait for it to be gone
          child.stdin!.end();
          await exited;
        },
      });
    });
    child.once('error', reject);
    void exited.then((code) => {
      if (held) return;
      if (code === 1 && !opts.wait && !err.trim()) resolve(null);
      else reject(new Error(`flock ${file} failed (exit ${code}): ${err.trim()}`));
    });
  });
}

/** Whether a live process holds the lock on `file`; a missing file is nobody's. Asked of flock(1) through the command runner. */
export async function lockHeld(file: string): Promise<boolean> {
  if (!fs.existsSync(file)) return false;
  const r = await runCommand('flock', ['--shared', '--nonblock', file, 'true'], { timeoutMs: 30_000 });
  if (r.error || r.timedOut) throw new Error(`flock ${file}: ${r.error ?? 'timed out'}`);
  return r.code !== 0;
}

/**
 * This process's presence in a data dir: <dataDir>/procs/<pid>-<random>, locked for as long as any
 * store of this process uses the dir. Other processes ask whether anyone else is there before
 * removing work they cannot otherwise tell from a dead process's (a young sandbox dir, a template mount).
 */
export interface DataDirPresence {
  join(): Promise<void>;
  /** Whether any other live process is in the data dir; dead entries are removed on the way. */
  othersPresent(): Promise<boolean>;
  leave(): Promise<void>;
}

const presences = new Map<string, { refs: number; name: string; held?: Promise<HeldLock | null> }>();

export function dataDirPresence(dataDir: string): DataDirPresence {
  const dir = path.join(dataDir, 'procs');
  let joined = false;
  return {
    async join() {
      if (joined) return;
      joined = true;
      let p = presences.get(dir);
      if (!p) {
        p = { refs: 0, name: `${process.pid}-${randomBytes(4).toString('hex')}` };
        presences.set(dir, p);
      }
      p.refs++;
      if (!p.held) {
        const name = p.name;
        p.held = (async () => {
          fs.mkdirSync(dir, { recursive: true });
          // Locked under a dot name first, then renamed: nobody ever sees our entry unlocked (and removes it).
          const lock = await holdLock(path.join(dir, `.${name}`), { wait: true });
          fs.renameSync(path.join(dir, `.${name}`), path.join(dir, name));
          return lock;
        })();
      }
      await p.held;
    },
    async othersPresent() {
      const mine = presences.get(dir)?.name;
      let names: string[] = [];
      try {
        names = fs.readdirSync(dir);
      } catch {
        return false;
      }
      let present = false;
      for (const n of names) {
        if (n === mine) continue;
        const file = path.join(dir, n);
        if (n.startsWith('.')) {
          // Someone joining right now, or a process killed while joining (removed once old).
          if (Date.now() - (fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0) < 60_000) present = true;
          else if (!(await lockHeld(file))) fs.rmSync(file, { force: true });
          continue;
        }
        if (await lockHeld(file)) present = true;
        else fs.rmSync(file, { force: true });
      }
      return present;
    },
    async leave() {
      if (!joined) return;
      joined = false;
      const p = presences.get(dir);
      if (!p || --p.refs > 0) return;
      presences.delete(dir);
      const lock = await p.held?.catch(() => null);
      fs.rmSync(path.join(dir, p.name), { force: true });
      await lock?.release();
    },
  };
}
