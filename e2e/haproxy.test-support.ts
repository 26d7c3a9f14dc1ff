// Debian's HAProxy in front of the replica tests, configured as the README's recipe: cookie-based
// stickiness (a learner's requests and WebSockets stay on the replica that holds their terminal),
// health checks, and a redispatch to a live replica when theirs is gone.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { waitForPort } from './tls.test-support.ts';

/** The cookie HAProxy pins a learner to a replica with; its value is the server's name (r0, r1…). */
export const REPLICA_COOKIE = 'lablab-replica';

export interface HaproxySpec {
  bind: string;
  /** host:port of each replica, named r0, r1… in order. */
  replicas: string[];
}

export function haproxyConfig(spec: HaproxySpec): string {
  return `global
	maxconn 4096

defaults
	mode http
	option forwardfor
	timeout connect 5s
	timeout client 60s
	timeout server 60s
	timeout check 5s
	# Terminals and port links are WebSockets that stay open for hours.
	timeout tunnel 8h
	# A learner whose replica is down is sent to a live one (that one adopts their session).
	option redispatch
	retries 2

frontend lablab
	bind ${spec.bind}
	default_backend replicas

backend replicas
	balance roundrobin
	cookie ${REPLICA_COOKIE} insert indirect nocache httponly
	option httpchk GET /healthz
${spec.replicas.map((r, i) => `\tserver r${i} ${r} cookie r${i} check inter 2s fall 3 rise 2`).join('\n')}
`;
}

export interface Haproxy {
  url: string;
  output(): string;
  stop(): Promise<void>;
}

export async function startHaproxy(dir: string, port: number, replicas: string[]): Promise<Haproxy> {
  const file = path.join(dir, 'haproxy.cfg');
  fs.writeFileSync(file, haproxyConfig({ bind: `127.0.0.1:${port}`, replicas }));
  await new Promise<void>((resolve, reject) => {
    const check = spawn('haproxy', ['-c', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    check.stdout.on('data', (d) => (out += d));
    check.stderr.on('data', (d) => (out += d));
    check.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`haproxy -c refused the config:\n${out}`))));
  });
  // -db: stay in the foreground, no daemon; the test owns and stops the process.
  const proc = spawn('haproxy', ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  await waitForPort(port, () => proc.exitCode !== null, () => out);
  return {
    url: `http://127.0.0.1:${port}`,
    output: () => out,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
    },
  };
}
