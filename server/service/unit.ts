// The systemd unit that runs the server as a service (npm run service:install). Pure: the unit's
// text from where the checkout and node are; the installer writes it.

export const UNIT_NAME = 'lablab.service';
export const ENV_FILE = '/etc/lablab/env';

export interface UnitSpec {
  /** Absolute path of the checkout (WorkingDirectory). */
  checkout: string;
  /** Absolute path of the node binary that runs the server. */
  node: string;
  /** Where the server's environment lives (default /etc/lablab/env). */
  envFile?: string;
}

export class UnitError extends Error {}

// systemd splits command lines on spaces and reads quotes, backslashes and `%` specifiers: a path
// with those would need escaping that differs per setting, so such paths are refused plainly.
function checkPath(what: string, p: string): string {
  if (!p.startsWith('/')) throw new UnitError(`${what} must be an absolute path, got "${p}"`);
  if (/[\s"'\\%$;]/.test(p)) throw new UnitError(`${what} "${p}" has a space, quote, backslash, % or $; move it to a plain path`);
  return p.replace(/\/+$/, '') || '/';
}

export function renderUnit(spec: UnitSpec): string {
  const dir = checkPath('the checkout', spec.checkout);
  const node = checkPath('node', spec.node);
  const envFile = checkPath('the environment file', spec.envFile ?? ENV_FILE);
  const nodeDir = node.slice(0, node.lastIndexOf('/')) || '/';
  return `# Written by \`npm run service:install\` from ${dir}; \`npm run service:uninstall\` removes it.
# Settings go in ${envFile} (the README's options table), not here.
[Unit]
Description=Docker labs: interactive lab runner (${dir})
Documentation=file://${dir}/README.md
# Sandboxes are containers of the host's Docker engine: start after it, stop with it.
After=network-online.target docker.service
Wants=network-online.target
Requires=docker.service

[Service]
Type=simple
# Root: sandboxes need loop devices, mounts and the host's firewall.
User=root
WorkingDirectory=${dir}
EnvironmentFile=${envFile}
Environment=PATH=${nodeDir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# Idempotent and quick once done; the first start builds the base and sandbox images (minutes).
ExecStartPre=/bin/bash ${dir}/sandbox/host/setup.sh
ExecStartPre=${node} ${dir}/web/build.mjs
ExecStart=${node} --import tsx ${dir}/server/main.ts
TimeoutStartSec=30min
# The server stops within 10 s of SIGTERM (sandboxes keep running; the next start re-attaches).
KillSignal=SIGTERM
TimeoutStopSec=20s
Restart=on-failure
RestartSec=5s
StandardOutput=journal
StandardError=journal
SyslogIdentifier=lablab

[Install]
WantedBy=multi-user.target
`;
}
