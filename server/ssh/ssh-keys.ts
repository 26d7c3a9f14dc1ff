// Public keys a learner pastes for their session's ssh logins. Parsed by ssh2 (the same code that
// verifies the login's signature), never a private key, one key per paste.
import crypto from 'node:crypto';
import ssh2, { type ParsedKey } from 'ssh2';
import { AppError } from '../errors.ts';

// ssh2 is CommonJS: its named exports are properties of the default one.
const { utils } = ssh2;

/** Longest pasted key line: an RSA 16384 key is about 2.8 KB. */
export const MAX_KEY_CHARS = 8192;

export interface PublicKeyLine {
  /** SHA256:… as `ssh-keygen -l` prints it. */
  fingerprint: string;
  /** type, base64, comment: one line. */
  publicKey: string;
  comment: string;
}

export function fingerprintOf(wire: Buffer): string {
  return `SHA256:${crypto.createHash('sha256').update(wire).digest('base64').replace(/=+$/, '')}`;
}

/** Throws a learner-readable AppError for anything but one OpenSSH public key. */
export function parsePublicKey(text: unknown): PublicKeyLine {
  if (typeof text !== 'string' || !text.trim()) throw new AppError('bad_request', 'Paste a public key: one line starting with ssh-ed25519, ecdsa-sha2-… or ssh-rsa.');
  if (text.length > MAX_KEY_CHARS) throw new AppError('bad_request', `That is ${text.length} characters; a public key is one line of at most ${MAX_KEY_CHARS}.`);
  if (/PRIVATE KEY/.test(text)) throw new AppError('bad_request', 'That is a private key: never paste it anywhere. Paste the .pub file instead (for example ~/.ssh/id_ed25519.pub).');
  const line = text.trim();
  if (/[\r\n]/.test(line)) throw new AppError('bad_request', 'Paste one key at a time (one line).');
  const parsed = utils.parseKey(line);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || key instanceof Error || key.isPrivateKey()) throw new AppError('bad_request', 'That is not an OpenSSH public key. Paste the whole line of your .pub file, for example "ssh-ed25519 AAAA… you@laptop".');
  const wire = key.getPublicSSH();
  const comment = (key.comment || '').slice(0, 200);
  return { fingerprint: fingerprintOf(wire), publicKey: `${key.type} ${wire.toString('base64')}${comment ? ` ${comment}` : ''}`, comment };
}

/** The stored line, parsed again for a login's signature check. */
export function parsedKey(publicKey: string): ParsedKey | undefined {
  const parsed = utils.parseKey(publicKey);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  return key && !(key instanceof Error) ? key : undefined;
}
