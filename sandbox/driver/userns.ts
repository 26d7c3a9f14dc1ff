// The sandbox boundary: every sandbox runs its learner's world (shell, inner engine, inner
// containers) in a user namespace of its own, where uid 0 is the unprivileged host uid
// SANDBOX_UID_BASE (image/lablab/sbin/outer-init builds it). The server reaches into a sandbox only
// through /.lablab/bin/enter, which joins that namespace before running anything.
import fs from 'node:fs';
import os from 'node:os';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';

/** uid/gid 0 in a sandbox's world, on the host (keep in step with outer-init and setup.sh). */
export const SANDBOX_UID_BASE = 1_048_576;
export const SANDBOX_UID_RANGE = 65_536;
/** The exec entry: host root's, read-only, the only program a `docker exec` of ours starts. */
export const ENTER = '/.lablab/bin/enter';

export type Boundary = 'userns' | 'host';

/**
 * argv for an exec in a sandbox. `world`: the learner's own mount table (the shell); otherwise the
 * container's mount table with the trusted tools of /.lablab/bin first on PATH (checks, files, ports).
 */
export function enterArgv(cmd: string[], world = false): string[] {
  return world ? [ENTER, 'world', ...cmd] : [ENTER, ...cmd];
}

/** The host uid that owns what a learner owns in a sandbox of this boundary. */
export const ownerUid = (b: Boundary): number => (b === 'userns' ? SANDBOX_UID_BASE : 0);

/**
 * A tar stream with every entry owned by `uid` (PAX records: the id may not fit ustar's fields), for
 * the engine's archive API with copyUIDGID: files the server puts into a sandbox belong to its root.
 */
export function reownTar(input: Readable, uid: number): Readable {
  const extract = tar.extract();
  const pack = tar.pack();
  const out = new PassThrough();
  extract.on('entry', (header, stream, next) => {
    const h = { ...header, uid, gid: uid, uname: '', gname: '', pax: { ...(header.pax ?? {}), uid: String(uid), gid: String(uid) } };
    stream.pipe(pack.entry(h, next));
  });
  extract.on('finish', () => pack.finalize());
  pipeline(input, extract).catch((err) => out.destroy(err));
  pipeline(pack, out).catch((err) => out.destroy(err));
  return out;
}

export interface UsernsFacts {
  kernel: string;
  maxUserNamespaces: number | null;
}

/** What the host's kernel says (pure reads), for userNamespacesUsable and the start-up line. */
export function readUsernsFacts(readFile: (p: string) => string = (p) => fs.readFileSync(p, 'utf8')): UsernsFacts {
  let max: number | null = null;
  try {
    max = Number(readFile('/proc/sys/user/max_user_namespaces').trim());
  } catch {
    max = null;
  }
  return { kernel: os.release(), maxUserNamespaces: max };
}

/**
 * Whether sandboxes can get a user namespace here: one is allowed at all, and the kernel mounts
 * overlayfs inside one (5.11), which the inner engine's storage needs. A reason when not.
 */
export function userNamespacesUsable(f: UsernsFacts): { ok: true } | { ok: false; reason: string } {
  if (f.maxUserNamespaces === 0) return { ok: false, reason: 'user namespaces are disabled (user.max_user_namespaces = 0); set it to e.g. 65536 with sysctl' };
  const m = /^(\d+)\.(\d+)/.exec(f.kernel);
  if (m && (Number(m[1]) < 5 || (Number(m[1]) === 5 && Number(m[2]) < 11))) {
    return { ok: false, reason: `kernel ${f.kernel} cannot mount overlayfs inside a user namespace (5.11 or later can)` };
  }
  return { ok: true };
}

/** The start-up line: which boundary holds on this host, or why sandboxes are refused. */
export function describeBoundary(f: UsernsFacts, allowHostAccess: boolean): string {
  const u = userNamespacesUsable(f);
  if (u.ok) return `sandbox boundary: a user namespace per sandbox (root in a sandbox is host uid ${SANDBOX_UID_BASE} with no capability on the host; kernel ${f.kernel})`;
  if (allowHostAccess) return `sandbox boundary: NONE (${u.reason}); SANDBOX_ALLOW_HOST_ACCESS=1, so root in a sandbox is root on the host: any learner can take this machine`;
  return `sandbox boundary: refusing to start sandboxes: ${u.reason}. Without a user namespace, root in a sandbox is root on the host; SANDBOX_ALLOW_HOST_ACCESS=1 starts them anyway`;
}
