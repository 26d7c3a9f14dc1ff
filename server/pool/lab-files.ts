// Copies a lab's files into a sandbox that was made before anyone knew which lab it would serve
// (a pooled one): a tar stream into the sandbox's own tar, through an exec (no container IP).
import * as tarFs from 'tar-fs';
import type { SandboxDriver, SandboxRef } from '../../sandbox/driver/types.ts';
import { AppError } from '../errors.ts';

function tarOf(dir: string): Promise<Buffer> {
  // Owned by root in the sandbox whatever their owner on the host, as on a cold create.
  const pack = tarFs.pack(dir, { map: (h) => ({ ...h, uid: 0, gid: 0, uname: 'root', gname: 'root' }) });
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    pack.on('data', (c: unknown) => chunks.push(c as Buffer));
    pack.on('end', () => resolve(Buffer.concat(chunks)));
    pack.on('error', reject);
  });
}

export async function copyLabFiles(driver: SandboxDriver, ref: SandboxRef, dir: string): Promise<void> {
  if (driver.copyFiles) return driver.copyFiles(ref, dir);
  const tar = await tarOf(dir);
  const r = await driver.exec(ref, ['tar', '-x', '--no-same-owner', '-C', ref.workdir, '-f', '-'], { stdin: tar, timeoutMs: 30_000 });
  if (r.exitCode !== 0) throw new AppError('sandbox_failed', `could not copy the lab's files into node${ref.node}: ${r.stderr.trim() || `exit ${r.exitCode}`}`);
}
