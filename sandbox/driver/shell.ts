// The learner's shell as the local site sees it: a dtach master inside the sandbox whose socket the
// server reaches through the bind-mounted socket folder (a verified hard link, see safe-socket.ts).
import net from 'node:net';
import path from 'node:path';
import { SandboxError } from './errors.ts';
import { linkSocket } from './safe-socket.ts';
import type { ExecOptions, ExecResult, SandboxRef } from './types.ts';

export const SHELL_TUNING = {
  /** How long ensureShell waits for a fresh dtach master to create its socket. */
  shellStartMs: 5_000,
} as const;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function canConnect(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(socketPath);
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.setTimeout(2_000, () => done(false));
  });
}

export function createLocalShell(exec: (ref: SandboxRef, cmd: string[], opts?: ExecOptions) => Promise<ExecResult>) {
  const shellStarts = new Map<string, Promise<void>>();

  async function ensureShellOnce(ref: SandboxRef): Promise<void> {
    const inSandbox = path.join(ref.socketDir, 'term.sock');
    const alive = async (): Promise<boolean> => {
      try {
        linkSocket(inSandbox, ref.terminalSocket);
      } catch (err) {
        if (err instanceof SandboxError && err.code === 'forbidden') throw err;
        return false;
      }
      return canConnect(ref.terminalSocket);
    };
    if (await alive()) return;
    const r = await exec(ref, ['/usr/local/sbin/lablab-shell'], { timeoutMs: 10_000, world: true });
    if (r.exitCode !== 0) throw new SandboxError('sandbox_failed', `could not start the shell in node${ref.node}: ${r.stderr.trim()}`);
    const deadline = Date.now() + SHELL_TUNING.shellStartMs;
    while (Date.now() < deadline) {
      if (await alive()) return;
      await sleep(25);
    }
    throw new SandboxError('sandbox_failed', `the shell in node${ref.node} did not start`);
  }

  return {
    /** Single-flight per sandbox: two tabs attaching at once must not start two shells. */
    ensureShell(ref: SandboxRef): Promise<void> {
      let p = shellStarts.get(ref.id);
      if (!p) {
        p = ensureShellOnce(ref).finally(() => shellStarts.delete(ref.id));
        shellStarts.set(ref.id, p);
      }
      return p;
    },
  };
}
