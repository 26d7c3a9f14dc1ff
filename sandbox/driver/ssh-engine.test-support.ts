// An sshd of the test's own on 127.0.0.1 (its own config, host key, authorized key, pid file) whose
// logins reach a given engine socket: `docker system dial-stdio` on the far side is what an ssh://
// engine speaks through. Started and stopped by the test that needs it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort } from './second-engine.test-support.ts';

export interface SshEngine {
  port: number;
  /** The client's private key and the server's public host key (ENGINES_FILE identityFile, hostKey). */
  identityFile: string;
  hostKey: string;
  stop(): Promise<void>;
}

/** Why sshd cannot run here, or null when it can. */
export function sshdMissing(): string | null {
  return fs.existsSync('/usr/sbin/sshd') ? null : 'openssh-server is not installed (sandbox/host/setup.sh installs it)';
}

export async function startSshEngine(opts: { dir: string; engineSocket: string }): Promise<SshEngine> {
  const dir = path.resolve(opts.dir);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keygen = (file: string) => {
    const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'lablab-test', '-f', file], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ssh-keygen: ${r.stderr.trim()}`);
  };
  keygen(path.join(dir, 'host_key'));
  keygen(path.join(dir, 'client_key'));
  fs.copyFileSync(path.join(dir, 'client_key.pub'), path.join(dir, 'authorized_keys'));
  const port = await freePort();
  const config = path.join(dir, 'sshd_config');
  fs.writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${path.join(dir, 'host_key')}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      // One ssh connection per engine API request: let many start at once.
      'MaxStartups 200',
      'MaxSessions 200',
      // What the login's `docker` talks to: the test engine, not the host's.
      `SetEnv DOCKER_HOST=unix://${opts.engineSocket}`,
      '',
    ].join('\n'),
  );
  fs.mkdirSync('/run/sshd', { recursive: true }); // sshd's privilege-separation directory
  const logFile = fs.openSync(path.join(dir, 'sshd.log'), 'a');
  const child: ChildProcess = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', logFile, logFile] });
  fs.closeSync(logFile);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) break;
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (up) {
      return {
        port,
        identityFile: path.join(dir, 'client_key'),
        hostKey: path.join(dir, 'host_key.pub'),
        async stop() {
          child.kill('SIGTERM');
          await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
          if (child.exitCode === null) child.kill('SIGKILL');
          fs.rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`sshd did not start: ${fs.readFileSync(path.join(dir, 'sshd.log'), 'utf8').slice(-500)}`);
}
