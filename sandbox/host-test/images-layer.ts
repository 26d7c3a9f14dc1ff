// The Docker images the project needs, loaded once into the VM's engine and kept as qcow2 layers on
// top of the base disk, keyed by what is below and the images' ids: a later run boots with them there.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { mustRun } from './proc.ts';
import type { Paths } from './paths.ts';
import type { BaseImage } from './base-image.ts';
import { overlay, startVm } from './vm.ts';

/** The base images setup.sh makes, and the names the project looks them up by. */
export const BASE_IMAGE_NAMES = ['debian:bookworm-slim', 'golang:1.19', 'busybox:latest', 'redis:7', 'redis:latest'];

export function imagesKey(baseKey: string, ids: Record<string, string>): string {
  const h = crypto.createHash('sha256').update(baseKey);
  for (const name of Object.keys(ids).sort()) h.update(`\0${name}=${ids[name]}`);
  return h.digest('hex').slice(0, 12);
}

/** The sandbox image this checkout built (setup.sh writes its tag to sandbox/.image-tag). */
export function sandboxImageTag(projectRoot: string): string {
  const file = path.join(projectRoot, 'sandbox/.image-tag');
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run "bash sandbox/host/setup.sh" in ${projectRoot} first`);
  return fs.readFileSync(file, 'utf8').trim();
}

async function imageIds(names: string[]): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  for (const n of names) ids[n] = (await mustRun('docker', ['image', 'inspect', '-f', '{{.Id}}', n], { timeoutMs: 60_000 })).stdout.trim();
  return ids;
}

export interface ImagesLayer {
  key: string;
  disk: string;
  names: string[];
}

/**
 * Two layers: the base images (they rarely change), then the sandbox image on top (it changes with
 * sandbox/image, and loading it alone takes a few minutes, not the whole set).
 */
export async function ensureImagesLayers(paths: Paths, base: BaseImage, projectRoot: string, say: (m: string) => void): Promise<ImagesLayer> {
  const baseImages = await ensureLayer(paths, { key: base.key, disk: base.disk }, BASE_IMAGE_NAMES, base, say);
  return ensureLayer(paths, baseImages, [sandboxImageTag(projectRoot), 'lablab/sandbox:latest'], base, say);
}

async function ensureLayer(paths: Paths, below: { key: string; disk: string }, names: string[], base: BaseImage, say: (m: string) => void): Promise<ImagesLayer> {
  const ids = await imageIds(names);
  const key = imagesKey(below.key, ids);
  const dir = path.join(paths.cache, `images-${key}`);
  const disk = path.join(dir, 'disk.qcow2');
  if (fs.existsSync(disk)) {
    say(`images layer ${key} (cached: ${names.join(' ')})`);
    return { key, disk, names };
  }
  const tmp = `${dir}.tmp`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  const tar = path.join(tmp, 'images.tar');
  say(`images layer ${key}: docker save ${names.join(' ')}`);
  await mustRun('docker', ['save', '-o', tar, ...names], { timeoutMs: 20 * 60_000 });
  await overlay(path.join(tmp, 'disk.qcow2'), below.disk);
  const vm = await startVm(paths, {
    name: `images-${key}`,
    kernel: base.kernel,
    initrd: base.initrd,
    drives: [{ file: path.join(tmp, 'disk.qcow2'), format: 'qcow2' }, { file: tar, format: 'raw', readonly: true }],
    logDir: tmp,
  }, say);
  try {
    const t0 = Date.now();
    say(`images layer ${key}: docker load in the VM (minutes under TCG)`);
    // The tar is the VM's second disk, read as a stream: nothing is copied first.
    await vm.mustSsh('for i in $(seq 1 120); do docker info >/dev/null 2>&1 && break; sleep 2; done; docker load -i /dev/vdb && docker images && sync', { timeoutMs: 60 * 60_000, logFile: path.join(tmp, 'load.log') });
    say(`images layer ${key}: loaded in ${Math.round((Date.now() - t0) / 1000)} s`);
    await vm.shutdown();
  } finally {
    vm.kill();
  }
  fs.rmSync(tar, { force: true });
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(tmp, dir);
  return { key, disk, names };
}
