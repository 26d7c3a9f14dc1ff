// The Docker images the project needs, on a disk the VM mounts at /var/lib/docker. Loading them in
// the VM (TCG) took over half an hour on a busy machine, so they are loaded on this host instead, by
// a private dockerd of the same version (own data root on a loop-mounted ext4 file, own socket and
// exec root, no bridge, no iptables: the shared engine is not touched). Cached, keyed by the dockerd
// version and the images' ids; each case gets a qcow2 overlay of it, so the cache stays as built.
import crypto from 'node:crypto';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { mustRun, run, sleep } from './proc.ts';
import type { Paths } from './paths.ts';

/** The base images setup.sh makes, and the names the project looks them up by. */
export const BASE_IMAGE_NAMES = ['debian:bookworm-slim', 'golang:1.19', 'busybox:latest', 'redis:7', 'redis:latest'];
const DISK_SIZE = '60G'; // sparse; templates and learners' inner engines live here too

export function imagesKey(below: string, ids: Record<string, string>): string {
  const h = crypto.createHash('sha256').update(below);
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

export interface DockerDisk {
  key: string;
  file: string;
  names: string[];
}

export async function ensureDockerDisk(paths: Paths, projectRoot: string, say: (m: string) => void): Promise<DockerDisk> {
  const names = [...BASE_IMAGE_NAMES, sandboxImageTag(projectRoot), 'lablab/sandbox:latest'];
  const version = (await mustRun('dockerd', ['--version'], { timeoutMs: 30_000 })).stdout.trim();
  const key = imagesKey(version, await imageIds(names));
  const file = path.join(paths.cache, `docker-${key}.raw`);
  if (fs.existsSync(file)) {
    say(`docker disk ${key} (cached: ${names.join(' ')})`);
    return { key, file, names };
  }
  const t0 = Date.now();
  say(`docker disk ${key}: loading ${names.join(' ')} with a private dockerd (${version})`);
  const tmp = `${file}.tmp`;
  const mnt = fs.mkdtempSync(path.join(paths.cache, 'docker-mnt-'));
  const execRoot = `/run/lablab-host-test-dockerd-${process.pid}`;
  const sock = `${execRoot}.sock`;
  let mounted = false;
  let dockerd: ReturnType<typeof spawn> | undefined;
  try {
    fs.rmSync(tmp, { force: true });
    await mustRun('truncate', ['-s', DISK_SIZE, tmp], { timeoutMs: 30_000 });
    await mustRun('mkfs.ext4', ['-q', '-F', '-L', 'lablab-docker', tmp], { timeoutMs: 5 * 60_000 });
    await mustRun('mount', ['-o', 'loop', tmp, mnt], { timeoutMs: 60_000 });
    mounted = true;
    const log = fs.openSync(`${file}.dockerd.log`, 'w');
    // In a network namespace of its own: with --bridge=none, dockerd deletes the docker0 link at start,
    // and in the host's namespace that is the host engine's bridge (every default-bridge container of
    // the host then failed until docker0 was made again). It needs no network, only its socket.
    dockerd = spawn('unshare', [
      '--net', '--', 'dockerd',
      '--data-root', mnt, '--exec-root', execRoot, '--pidfile', `${execRoot}.pid`, '-H', `unix://${sock}`,
      '--bridge=none', '--iptables=false', '--ip-masq=false', '--storage-driver=overlay2', '--log-level=warn',
    ], { stdio: ['ignore', log, log] });
    let up = false;
    for (let i = 0; i < 60 && !up; i++) {
      up = (await run('docker', ['-H', `unix://${sock}`, 'version'], { timeoutMs: 10_000 })).code === 0;
      if (!up) await sleep(1000);
    }
    if (!up) throw new Error(`the private dockerd did not answer in 60 s; see ${file}.dockerd.log`);
    await mustRun('bash', ['-o', 'pipefail', '-c', `docker save ${names.join(' ')} | docker -H unix://${sock} load`], { timeoutMs: 30 * 60_000 });
    const listed = (await mustRun('docker', ['-H', `unix://${sock}`, 'images', '--format', '{{.Repository}}:{{.Tag}}'], { timeoutMs: 60_000 })).stdout;
    for (const n of names) if (!listed.split('\n').includes(n)) throw new Error(`${n} missing after the load:\n${listed}`);
  } finally {
    if (dockerd && dockerd.exitCode === null) {
      dockerd.kill('SIGTERM');
      for (let i = 0; i < 60 && dockerd.exitCode === null && dockerd.signalCode === null; i++) await sleep(1000);
      if (dockerd.exitCode === null && dockerd.signalCode === null) dockerd.kill('SIGKILL');
    }
    // The VM's engine makes its own networks and has no swarm state of ours.
    for (const d of ['network', 'swarm']) fs.rmSync(path.join(mnt, d), { recursive: true, force: true });
    if (mounted && (await run('umount', [mnt], { timeoutMs: 120_000 })).code !== 0) await run('umount', ['-l', mnt], { timeoutMs: 60_000 });
    fs.rmdirSync(mnt);
    fs.rmSync(sock, { force: true });
    await run('rm', ['-rf', '--one-file-system', execRoot], { timeoutMs: 60_000 });
  }
  fs.renameSync(tmp, file);
  say(`docker disk ${key}: ready in ${Math.round((Date.now() - t0) / 1000)} s`);
  return { key, file, names };
}

/** In the VM: the packaged engine, stopped, its data root mounted from the docker disk, started again. */
export const GUEST_MOUNT_DOCKER = `set -e
if ! mountpoint -q /var/lib/docker; then
  systemctl stop docker.socket docker.service
  mount /dev/vdc /var/lib/docker
  systemctl start docker.service
fi
for i in $(seq 1 120); do docker info >/dev/null 2>&1 && break; sleep 2; done
docker images --format '{{.Repository}}:{{.Tag}}' | sort | tr '\\n' ' '`;
