// npx tsx sandbox/bench/remote-bench.ts — create→ready of a sandbox on the local engine against one
// on a remote engine reached over TCP with TLS and over ssh (a second dockerd on this host on
// 127.0.0.1, and an sshd of its own, as the integration tests start them). Prints a table, then (last line) one JSON object; no assertions.
// Everything it creates carries a bench owner id and is removed at the end, even on failure.
import Docker from 'dockerode';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createDockerSandboxDriver } from '../driver/docker-driver.ts';
import { hostIsolationRule } from '../driver/networks.ts';
import { dockerOptions, parseEngine } from '../driver/engines-config.ts';
import { builtSandboxImage } from '../driver/image-tag.ts';
import { shipImages } from '../driver/image-ship.ts';
import { startSecondEngine } from '../driver/second-engine.test-support.ts';
import { removeTestSandboxes } from '../driver/test-cleanup.test-support.ts';
import { startSshEngine } from '../driver/ssh-engine.test-support.ts';
import type { SandboxDriver, SandboxLimits } from '../driver/types.ts';

const IMAGES = (process.env.BENCH_IMAGES ?? 'golang:1.19,busybox').split(',');
const N = Number(process.env.BENCH_N ?? 5);
const limits: SandboxLimits = { memoryMiB: 2048, pids: 1024, cpuShares: 512, diskGiB: 8 };
const POOL = '10.227.0.0/16';

const tag = randomBytes(3).toString('hex');
const owner = `bench-rm-${tag}`;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-rbench-'));
const host = new Docker({ socketPath: '/var/run/docker.sock' });
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function series(name: string, driver: SandboxDriver): Promise<{ first: number; runs: number[] }> {
  const one = async (i: number) => {
    const t = Date.now();
    const ref = await driver.create({ sessionId: `${owner}-${name}-${i}`, node: 1, images: IMAGES, limits, expiresAt: Date.now() + 3_600_000 });
    await driver.waitReady(ref, { images: IMAGES, timeoutMs: 300_000 });
    const ms = Date.now() - t;
    await driver.destroy(ref);
    await driver.removeSessionNetwork(`${owner}-${name}-${i}`);
    console.error(`[bench] ${name} ${i === 0 ? 'first (template build)' : `${i}/${N}`}: ${ms} ms`);
    return ms;
  };
  const first = await one(0);
  const runs: number[] = [];
  for (let i = 1; i <= N; i++) runs.push(await one(i));
  return { first, runs };
}

async function main() {
  const engine = await startSecondEngine({ dir: path.join(dir, 'engine'), name: `rb${tag}`, tls: true });
  const local = createDockerSandboxDriver({ dataDir: path.join(dir, 'local'), ownerId: owner, limits });
  const sshd = await startSshEngine({ dir: path.join(dir, 'sshd'), engineSocket: engine.socketPath });
  let remote: SandboxDriver | undefined;
  let viaSsh: SandboxDriver | undefined;
  try {
    const spec = parseEngine({ id: 'far', url: `tcp://127.0.0.1:${engine.tcp!.port}`, tls: engine.tcp!.client }, 1);
    const tShip = Date.now();
    await shipImages({ from: host, to: engine.docker, images: [builtSandboxImage(), ...IMAGES.map((i) => (i.includes(':') ? i : `${i}:latest`))] });
    const shipMs = Date.now() - tShip;
    remote = createDockerSandboxDriver({ dataDir: path.join(dir, 'remote'), ownerId: owner, docker: dockerOptions(spec, (p) => fs.readFileSync(p)) as Docker.DockerOptions, remote: true, allowUnlimited: true, subnetPool: POOL, limits, log: (m) => /sandbox|template/.test(m) && console.error(`[remote] ${m}`) });
    const sshSpec = parseEngine({ id: 'side', url: `ssh://root@127.0.0.1:${sshd.port}`, identityFile: sshd.identityFile, hostKey: sshd.hostKey }, 2);
    viaSsh = createDockerSandboxDriver({ dataDir: path.join(dir, 'ssh'), ownerId: `${owner}-ssh`, docker: dockerOptions(sshSpec, (p) => fs.readFileSync(p)) as Docker.DockerOptions, remote: true, allowUnlimited: true, subnetPool: POOL, limits });
    const l = await series('local', local);
    const r = await series('remote-tls', remote);
    const sh = await series('remote-ssh', viaSsh);
    const rows: [string, string][] = [
      ['images', IMAGES.join(', ')],
      ['ship sandbox image + lab images to the remote engine (once)', `${shipMs} ms`],
      ['local: first sandbox incl. template build', `${l.first} ms`],
      ['remote: first sandbox incl. template volume build', `${r.first} ms`],
      [`local create→ready p50 (n=${N})`, `${median(l.runs)} ms`],
      [`remote (tcp+TLS) create→ready p50 (n=${N})`, `${median(r.runs)} ms`],
      [`remote (ssh) create→ready p50 (n=${N})`, `${median(sh.runs)} ms`],
    ];
    for (const [k, v] of rows) console.log(`${k.padEnd(64)} ${v}`);
    console.log(JSON.stringify({ images: IMAGES, n: N, shipMs, localFirstMs: l.first, remoteFirstMs: r.first, localP50Ms: median(l.runs), remoteP50Ms: median(r.runs), sshP50Ms: median(sh.runs), local: l.runs, remote: r.runs, ssh: sh.runs }));
  } finally {
    await remote?.reap({ now: Number.MAX_SAFE_INTEGER, isLive: () => false }).catch((e) => console.error('cleanup', e));
    await remote?.dispose();
    await viaSsh?.reap({ now: Number.MAX_SAFE_INTEGER, isLive: () => false }).catch((e) => console.error('cleanup', e));
    await viaSsh?.dispose();
    await sshd.stop();
    await removeTestSandboxes(host, path.join(dir, 'local'), owner, (m) => console.error(m));
    spawnSync('iptables', ['-D', ...hostIsolationRule(POOL)]);
    await engine.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
