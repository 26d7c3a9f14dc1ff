// A second Docker engine on this host for tests: its own data-root, exec-root, pidfile, socket,
// containerd namespace and default bridge (made here, with its own subnet), no iptables.
// Started and stopped by the test that needs it.
// Never `--bridge=none`: at start dockerd then deletes the host's docker0 link, which the host
// engine still uses (it broke every container on the default bridge until docker0 was re-made).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Docker from 'dockerode';

export interface SecondEngine {
  socketPath: string;
  docker: Docker;
  stop(): Promise<void>;
}

export async function startSecondEngine(opts: { dir: string; name: string; log?: (m: string) => void }): Promise<SecondEngine> {
  const dir = path.resolve(opts.dir);
  fs.mkdirSync(dir, { recursive: true });
  // unix socket paths are short (108 bytes): the socket and exec-root live under /run.
  const run = `/run/lablab-${opts.name}`;
  fs.mkdirSync(run, { recursive: true });
  const socketPath = path.join(run, 'docker.sock');
  // A bridge of our own (names are at most 15 bytes), on a subnet no session pool uses.
  const hash = createHash('sha256').update(opts.name).digest();
  const bridge = `lbe-${hash.subarray(0, 3).toString('hex')}`;
  const cidr = `10.230.${hash[3]}.1/24`;
  const ip = (...args: string[]) => spawnSync('ip', args, { encoding: 'utf8' });
  ip('link', 'del', bridge);
  for (const args of [['link', 'add', 'name', bridge, 'type', 'bridge'], ['addr', 'add', cidr, 'dev', bridge], ['link', 'set', bridge, 'up']]) {
    const r = ip(...args);
    if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
  }
  const removeBridge = () => void ip('link', 'del', bridge);
  const logFile = fs.openSync(path.join(dir, 'dockerd.log'), 'a');
  const child: ChildProcess = spawn('dockerd', [
    `--data-root=${path.join(dir, 'data')}`,
    `--exec-root=${path.join(run, 'exec')}`,
    `--pidfile=${path.join(run, 'dockerd.pid')}`,
    `--host=unix://${socketPath}`,
    `--containerd-namespace=lablab-${opts.name}`,
    `--containerd-plugins-namespace=lablab-${opts.name}-plugins`,
    `--bridge=${bridge}`,
    '--iptables=false',
    '--ip6tables=false',
  ], { stdio: ['ignore', logFile, logFile] });
  fs.closeSync(logFile);
  const docker = new Docker({ socketPath });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; i < 120; i++) {
    if (child.exitCode !== null) break;
    try {
      await docker.ping();
      return {
        socketPath,
        docker,
        async stop() {
          child.kill('SIGTERM');
          await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
          if (child.exitCode === null) child.kill('SIGKILL');
          await exited;
          removeBridge();
          fs.rmSync(run, { recursive: true, force: true });
          fs.rmSync(dir, { recursive: true, force: true });
        },
      };
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  child.kill('SIGKILL');
  removeBridge();
  throw new Error(`the second engine did not start: see ${path.join(dir, 'dockerd.log')}`);
}
