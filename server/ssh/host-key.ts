// The ssh server's host key: generated once per install into the data dir (mode 0600, its folder
// 0700) and kept, so returning users' known_hosts stay valid and no two installs share a key.
import fs from 'node:fs';
import path from 'node:path';
import ssh2 from 'ssh2';
import { fingerprintOf } from './ssh-keys.ts';

// ssh2 is CommonJS: its named exports are properties of the default one.
const { utils } = ssh2;

export interface HostKey {
  /** OpenSSH private key text, for ssh2's Server. */
  privateKey: string;
  /** One line, for a known_hosts file. */
  publicKey: string;
  /** SHA256:…, as ssh prints it on first contact. */
  fingerprint: string;
  file: string;
  created: boolean;
}

export function hostKeyFile(dataDir: string): string {
  return path.join(dataDir, 'ssh', 'ssh_host_ed25519_key');
}

export function loadOrCreateHostKey(dataDir: string): HostKey {
  const file = hostKeyFile(dataDir);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  let created = false;
  if (!fs.existsSync(file)) {
    const pair = utils.generateKeyPairSync('ed25519', { comment: 'lablab host key' });
    try {
      // 'wx': a second process starting on the same data dir at the same moment keeps the first key.
      fs.writeFileSync(file, pair.private, { mode: 0o600, flag: 'wx' });
      fs.writeFileSync(`${file}.pub`, `${pair.public}\n`, { mode: 0o644 });
      created = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  // A key others can read is no secret: tighten it rather than serve with it.
  if ((fs.statSync(file).mode & 0o077) !== 0) fs.chmodSync(file, 0o600);
  const privateKey = fs.readFileSync(file, 'utf8');
  const parsed = utils.parseKey(privateKey);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || key instanceof Error) throw new Error(`${file} is not an ssh private key (${key instanceof Error ? key.message : 'unreadable'}); move it away and a new one is made`);
  const wire = key.getPublicSSH();
  return { privateKey, publicKey: `${key.type} ${wire.toString('base64')}`, fingerprint: fingerprintOf(wire), file, created };
}
