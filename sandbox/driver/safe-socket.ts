// A learner is root inside the sandbox and owns the bind-mounted run/ directory. They could replace
// docker.sock or term.sock with a symlink to the HOST's docker.sock, and we would then talk to it.
// So we never connect to run/* directly: we hard-link the socket inode into a host-only directory
// (link(2) does not follow symlinks) and check what we linked. The checked link cannot be swapped.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { SandboxError } from './errors.ts';

/**
 * Makes `privatePath` a hard link to the socket at `sandboxPath`, refreshing it when the socket was
 * re-created. Throws when `sandboxPath` is anything but a unix socket.
 */
export function linkSocket(sandboxPath: string, privatePath: string): void {
  let src: fs.Stats;
  try {
    src = fs.lstatSync(sandboxPath);
  } catch {
    throw new SandboxError('sandbox_failed', `socket ${path.basename(sandboxPath)} is not there yet`);
  }
  if (!src.isSocket()) throw new SandboxError('forbidden', `refusing ${sandboxPath}: not a unix socket`);
  try {
    const cur = fs.lstatSync(privatePath);
    if (cur.isSocket() && cur.ino === src.ino && cur.dev === src.dev) return;
  } catch {
    // no link yet
  }
  const tmp = `${privatePath}.${randomBytes(4).toString('hex')}`;
  fs.linkSync(sandboxPath, tmp);
  const linked = fs.lstatSync(tmp);
  if (!linked.isSocket()) {
    fs.rmSync(tmp, { force: true });
    throw new SandboxError('forbidden', `refusing ${sandboxPath}: not a unix socket`);
  }
  fs.renameSync(tmp, privatePath);
}

/** Throws unless `p` itself (not what it points to) is a unix socket. */
export function assertSocket(p: string): void {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch {
    throw new SandboxError('sandbox_failed', `socket ${p} does not exist`);
  }
  if (!st.isSocket()) throw new SandboxError('forbidden', `refusing ${p}: not a unix socket`);
}
