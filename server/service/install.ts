// Installs and removes the systemd unit (npm run service:install / service:uninstall). The file
// system root and the command runner are passed in, so a test installs under a scratch root with
// the real `systemctl --root`, which needs no running systemd.
import fs from 'node:fs';
import path from 'node:path';
import { ENV_FILE, UNIT_NAME, renderUnit } from './unit.ts';

export interface ServiceDeps {
  /** File system root ('/' on a host; a scratch directory in tests). */
  root: string;
  checkout: string;
  node: string;
  /** True where systemd is PID 1 and manages this root: then it is reloaded and the unit started/stopped. */
  systemdRunning: boolean;
  run(cmd: string, args: string[]): Promise<void>;
  say(line: string): void;
}

/** Where systemd is PID 1 (sd_booted(3): /run/systemd/system exists). */
export function systemdIsRunning(): boolean {
  return fs.existsSync('/run/systemd/system');
}

const ENV_TEMPLATE = `# Environment of ${UNIT_NAME} (KEY=value, one a line; see the README's options table).
# Edit, then: systemctl restart lablab
PORT=8080
HOST=127.0.0.1
# Behind a TLS proxy on this host: its X-Forwarded-Proto counts, so the learner cookie is Secure.
TRUST_PROXY=loopback
# One JSON object a line in the journal (level, time, session and sandbox ids); unset for human lines.
LOG_FORMAT=json
# HOST_TOKEN=<a long random string>           turns on /host and /metrics
# PORT_HOST_PATTERN=p{port}-{node}-{lab}.ports.example.org
# MAX_SANDBOXES=50
`;

const unitPath = (d: ServiceDeps) => path.join(d.root, 'etc/systemd/system', UNIT_NAME);
const envPath = (d: ServiceDeps) => path.join(d.root, ENV_FILE);
const live = (d: ServiceDeps) => d.systemdRunning && path.resolve(d.root) === '/';
const systemctl = (d: ServiceDeps, ...args: string[]) => d.run('systemctl', live(d) ? args : [`--root=${d.root}`, ...args]);

export async function installService(d: ServiceDeps): Promise<void> {
  const unit = renderUnit({ checkout: d.checkout, node: d.node });
  fs.mkdirSync(path.dirname(unitPath(d)), { recursive: true });
  fs.writeFileSync(unitPath(d), unit, { mode: 0o644 });
  d.say(`wrote ${unitPath(d)}`);
  // The environment file holds secrets (HOST_TOKEN, COOKIE_SECRET): root only, and never overwritten.
  fs.mkdirSync(path.dirname(envPath(d)), { recursive: true, mode: 0o700 });
  if (!fs.existsSync(envPath(d))) {
    fs.writeFileSync(envPath(d), ENV_TEMPLATE, { mode: 0o600 });
    d.say(`wrote ${envPath(d)} (edit it: the README's options table)`);
  } else {
    d.say(`kept ${envPath(d)}`);
  }
  if (live(d)) await systemctl(d, 'daemon-reload');
  await systemctl(d, 'enable', UNIT_NAME);
  d.say(`enabled ${UNIT_NAME}: start it with \`systemctl start lablab\`, read its log with \`journalctl -u lablab -f\``);
}

export async function uninstallService(d: ServiceDeps): Promise<void> {
  if (fs.existsSync(unitPath(d))) {
    await systemctl(d, 'disable', ...(live(d) ? ['--now'] : []), UNIT_NAME);
    fs.rmSync(unitPath(d));
    if (live(d)) await systemctl(d, 'daemon-reload');
    d.say(`${live(d) ? 'stopped, disabled' : 'disabled'} and removed ${UNIT_NAME}`);
  } else {
    d.say(`${UNIT_NAME} is not installed`);
  }
  // Settings and secrets are the host's: kept, so a reinstall picks them up.
  if (fs.existsSync(envPath(d))) d.say(`kept ${envPath(d)} (remove it by hand if you want it gone)`);
}
