// A Redis of our own for the replica tests: Debian's redis-server on a free loopback port, no
// persistence, stopped (and its files gone) with the test.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';

export interface TestRedis {
  url: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  for (let i = 0; i < 100 && !/Ready to accept connections/.test(out) && proc.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
  if (!/Ready to accept connections/.test(out)) {
    proc.kill('SIGKILL');
    throw new Error(`redis-server did not start (is the redis-server package installed? setup.sh installs it):\n${out}`);
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    proc,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
    },
  };
}
