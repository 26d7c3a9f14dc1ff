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

export interface EngineCerts {
  ca: string;
  cert: string;
  key: string;
}

export interface SecondEngine {
  socketPath: string;
  docker: Docker;
  /** With `tls`: where it also listens (127.0.0.1 only) and the client's certificate files. */
  tcp?: { host: string; port: number; client: EngineCerts; dir: string };
  stop(): Promise<void>;
}

function openssl(cwd: string, ...args: string[]): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args[0]}: ${r.stderr.trim()}`);
}

/**
 * A CA, a server certificate for 127.0.0.1/localhost and a client certificate signed by it, made by
 * openssl in `dir` (`prefix` lets a second, untrusted set sit beside the first).
 */
export function makeCerts(dir: string, prefix = ''): { server: EngineCerts; client: EngineCerts } {
  fs.mkdirSync(dir, { recursive: true });
  const f = (n: string) => path.join(dir, `${prefix}${n}`);
  openssl(dir, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=lablab test CA', '-keyout', f('ca-key.pem'), '-out', f('ca.pem'));
  fs.writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  fs.writeFileSync(f('client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const who of ['server', 'client']) {
    openssl(dir, 'req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${who === 'server' ? 'localhost' : 'lablab client'}`, '-keyout', f(`${who}-key.pem`), '-out', f(`${who}.csr`));
    openssl(dir, 'x509', '-req', '-in', f(`${who}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca-key.pem'), '-CAcreateserial', '-days', '2', '-extfile', f(`${who}.ext`), '-out', f(`${who}.pem`));
  }
  return {
    server: { ca: f('ca.pem'), cert: f('server.pem'), key: f('server-key.pem') },
    client: { ca: f('ca.pem'), cert: f('client.pem'), key: f('client-key.pem') },
  };
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export async function startSecondEngine(opts: { dir: string; name: string; log?: (m: string) => void; tls?: boolean }): Promise<SecondEngine> {
  const dir = path.resolve(opts.dir);
  fs.mkdirSync(dir, { recursive: true });
  // Engine and client certificates; the engine also listens on TCP with --tlsverify (client certs required).
  let tcp: SecondEngine['tcp'];
  const tlsArgs: string[] = [];
  if (opts.tls) {
    const certsDir = path.join(dir, 'certs');
    const { server, client } = makeCerts(certsDir);
    tcp = { host: '127.0.0.1', port: await freePort(), client, dir: certsDir };
    tlsArgs.push(`--host=tcp://${tcp.host}:${tcp.port}`, '--tlsverify', `--tlscacert=${server.ca}`, `--tlscert=${server.cert}`, `--tlskey=${server.key}`);
  }
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
    ...tlsArgs,
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
        tcp,
        async stop() {
          child.kill('SIGTERM');
          await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
          if (child.exitCode === null) child.kill('SIGKILL');
          await exited;
          removeBridge();
          // The engine leaves its default netns bind-mounted under its exec-root when it made networks.
          const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((m) => m.startsWith(`${run}/`));
          for (const m of mounts.reverse()) spawnSync('umount', ['-l', m]);
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
