// What the VM gets from this checkout: the host's Node.js (Debian 12's own is 18) and node_modules
// (same arch and glibc) on a disk of their own, and the working tree (minus .data and node_modules)
// over ssh, so that a kept VM can be re-synced in seconds.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { mustRun } from './proc.ts';
import type { Paths } from './paths.ts';
import type { Vm } from './vm.ts';

export const GUEST_PROJECT = '/root/project';
export const GUEST_PAYLOAD = '/opt/lablab-payload';

/** The host's node binary and its global npm. */
export function hostNode(): { bin: string; npmDir: string; version: string } {
  const bin = fs.realpathSync(process.execPath);
  const npmDir = path.resolve(path.dirname(bin), '../lib/node_modules/npm');
  if (!fs.existsSync(path.join(npmDir, 'bin/npm-cli.js'))) throw new Error(`no npm beside ${bin} (looked in ${npmDir})`);
  return { bin, npmDir, version: process.version };
}

function payloadKey(projectRoot: string, node: ReturnType<typeof hostNode>): string {
  const h = crypto.createHash('sha256').update(node.version).update(node.bin);
  for (const f of ['package-lock.json', 'node_modules/.package-lock.json']) {
    const p = path.join(projectRoot, f);
    if (fs.existsSync(p)) h.update(fs.readFileSync(p)).update(String(fs.statSync(p).mtimeMs));
  }
  return h.digest('hex').slice(0, 12);
}

/** An ext4 disk with node/ and node_modules/, made without mounting anything (mkfs.ext4 -d). */
export async function ensurePayloadDisk(paths: Paths, projectRoot: string, say: (m: string) => void): Promise<string> {
  const node = hostNode();
  const key = payloadKey(projectRoot, node);
  const file = path.join(paths.work, `payload-${key}.raw`);
  if (fs.existsSync(file)) return file;
  for (const f of fs.readdirSync(paths.work)) if (/^payload-.*\.raw$/.test(f)) fs.rmSync(path.join(paths.work, f), { force: true });
  const stage = fs.mkdtempSync(path.join(paths.work, 'payload-stage-'));
  try {
    say(`payload disk ${key}: node ${node.version}, npm, node_modules`);
    fs.mkdirSync(path.join(stage, 'node/bin'), { recursive: true });
    fs.mkdirSync(path.join(stage, 'node/lib/node_modules'), { recursive: true });
    fs.copyFileSync(node.bin, path.join(stage, 'node/bin/node'));
    fs.chmodSync(path.join(stage, 'node/bin/node'), 0o755);
    await mustRun('cp', ['-a', node.npmDir, path.join(stage, 'node/lib/node_modules/npm')], { timeoutMs: 5 * 60_000 });
    await mustRun('cp', ['-a', path.join(projectRoot, 'node_modules'), path.join(stage, 'node_modules')], { timeoutMs: 10 * 60_000 });
    await mustRun('mkfs.ext4', ['-q', '-F', '-L', 'lablab-payload', '-d', stage, file + '.tmp', '4G'], { timeoutMs: 10 * 60_000 });
    fs.renameSync(file + '.tmp', file);
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
  return file;
}

/** Working-tree files to copy: tracked and untracked-but-not-ignored, those that exist. */
export async function projectFiles(projectRoot: string): Promise<string[]> {
  const r = await mustRun('git', ['ls-files', '-z', '-co', '--exclude-standard'], { cwd: projectRoot, timeoutMs: 60_000 });
  return [...new Set(r.stdout.split('\0').filter(Boolean))].filter((f) => !/^(\.data|node_modules)(\/|$)/.test(f) && fs.existsSync(path.join(projectRoot, f)));
}

/** Copies the working tree into the VM (over what is there: a re-sync). */
export async function copyProject(vm: Vm, paths: Paths, projectRoot: string): Promise<number> {
  const files = await projectFiles(projectRoot);
  const list = path.join(paths.work, `files-${process.pid}.txt`);
  fs.writeFileSync(list, files.join('\0'));
  try {
    await vm.pipeInto('tar', ['--null', '-T', list, '-cf', '-'], `mkdir -p ${GUEST_PROJECT} && tar -xf - -C ${GUEST_PROJECT}`, 10 * 60_000, projectRoot);
  } finally {
    fs.rmSync(list, { force: true });
  }
  return files.length;
}

/** Mounts the payload disk (the VM's second disk) and puts node, npm and node_modules in place. */
export const GUEST_PREPARE = `set -e
mkdir -p ${GUEST_PAYLOAD} ${GUEST_PROJECT}/node_modules
mountpoint -q ${GUEST_PAYLOAD} || mount /dev/vdb ${GUEST_PAYLOAD}
ln -sfn ${GUEST_PAYLOAD}/node/bin/node /usr/local/bin/node
ln -sfn ${GUEST_PAYLOAD}/node/lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm
ln -sfn ${GUEST_PAYLOAD}/node/lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx
mountpoint -q ${GUEST_PROJECT}/node_modules || mount --bind ${GUEST_PAYLOAD}/node_modules ${GUEST_PROJECT}/node_modules
node --version`;
