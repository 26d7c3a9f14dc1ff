// TLS in front of the server, as a host runs it: a test CA made here with openssl, Debian's Caddy
// terminating HTTPS for the site and its per-port hosts, and Chromium trusting that CA through its
// own NSS certificate database (as a host's browsers trust a company CA), not by ignoring errors.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';

const exec = promisify(execFile);

export interface TestCa {
  caCert: string;
  cert: string;
  key: string;
}

/** A CA and one server certificate for `names` (wildcards allowed), signed by it. */
export async function makeTestCa(dir: string, names: string[]): Promise<TestCa> {
  const f = (n: string) => path.join(dir, n);
  await exec('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', '/CN=lablab test CA', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  await exec('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${names[0]}`, '-keyout', f('site.key'), '-out', f('site.csr')]);
  fs.writeFileSync(f('site.ext'), `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`);
  await exec('openssl', ['x509', '-req', '-in', f('site.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', f('site.ext'), '-out', f('site.pem')]);
  return { caCert: f('ca.pem'), cert: f('site.pem'), key: f('site.key') };
}

/** A HOME whose NSS database (what Chromium on Linux reads) trusts the CA for web sites. */
export async function homeTrusting(home: string, caCert: string): Promise<string> {
  const db = path.join(home, '.pki', 'nssdb');
  fs.mkdirSync(db, { recursive: true });
  await exec('certutil', ['-d', `sql:${db}`, '-N', '--empty-password']);
  await exec('certutil', ['-d', `sql:${db}`, '-A', '-t', 'C,,', '-n', 'lablab test CA', '-i', caCert]);
  return home;
}

export interface CaddySite {
  /** The lab site's host name. */
  site: string;
  /** The wildcard the per-port hosts live under, e.g. *.ports.example.org (PORT_HOST_PATTERN's domain). */
  portHosts: string;
  /** Port Caddy serves HTTPS on (443 on a host). */
  httpsPort: number;
  /** Where the server listens. */
  upstream: string;
  cert: string;
  key: string;
}

/**
 * The Caddyfile of the README's recipe. Caddy passes the Host header through unchanged (the server
 * tells port hosts apart by it), sets X-Forwarded-Proto (so with TRUST_PROXY the learner cookie is
 * Secure), and carries WebSocket upgrades by itself.
 */
export function caddyfile(c: CaddySite): string {
  const port = c.httpsPort === 443 ? '' : `:${c.httpsPort}`;
  return `{
	admin off
	auto_https disable_redirects
}

https://${c.site}${port}, https://${c.portHosts}${port} {
	tls ${c.cert} ${c.key}
	reverse_proxy ${c.upstream}
}
`;
}

export interface Caddy {
  output(): string;
  stop(): Promise<void>;
}

export async function startCaddy(dir: string, config: string, httpsPort: number): Promise<Caddy> {
  const file = path.join(dir, 'Caddyfile');
  fs.writeFileSync(file, config);
  // Caddy keeps state under XDG dirs: this run's own, so nothing lands in the host's.
  const env = { ...process.env, HOME: dir, XDG_DATA_HOME: path.join(dir, 'data'), XDG_CONFIG_HOME: path.join(dir, 'config') };
  const proc: ChildProcess = spawn('caddy', ['run', '--config', file, '--adapter', 'caddyfile'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  await waitForPort(httpsPort, () => proc.exitCode !== null, () => out);
  return {
    output: () => out,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
    },
  };
}

export async function waitForPort(port: number, died: () => boolean, output: () => string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (died()) throw new Error(`the proxy exited:\n${output()}`);
    const open = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on port ${port} after 30 s:\n${output()}`);
}

/**
 * page.goto that survives Chromium's "network changed": other tests on this machine create Docker
 * networks all the time, and Chromium aborts what it is loading by host name when interfaces
 * change (net::ERR_NETWORK_CHANGED), scripts and styles included. Loading again is what a person
 * would do; `loaded` says whether the page came up whole (for a lab page: its script ran).
 */
export async function gotoSteady(page: Page, url: string, loaded: () => Promise<boolean> = async () => true, attempts = 20): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      await page.goto(url);
      if (await loaded()) return;
    } catch (err) {
      if (!/ERR_NETWORK_CHANGED|chrome-error:/.test(String(err))) throw err;
    }
    if (i >= attempts) throw new Error(`${url}: did not load whole in ${attempts} attempts (the network kept changing under Chromium)`);
    await page.waitForTimeout(1000); // let a burst of interface changes pass
  }
}

/** For gotoSteady: the lab page's own script has run. */
export const labPageLoaded = (page: Page) => () =>
  page.waitForFunction(() => (window as unknown as { __lablabAppReady?: boolean }).__lablabAppReady === true, null, { timeout: 20_000 }).then(() => true, () => false);
