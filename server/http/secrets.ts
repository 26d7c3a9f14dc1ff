// The cookie secret: from COOKIE_SECRET, from a file (COOKIE_SECRET_FILE), or generated once into a
// 0600 file in the data dir. Never shorter than 32 bytes: the learner cookie's HMAC is only as
// strong as its key. Before this, a generated secret sat in plaintext in the SQLite file under the
// default umask; a secret found there is moved to the file so existing learners keep their cookies.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../errors.ts';

export const MIN_SECRET_BYTES = 32;
export const SECRET_FILE_NAME = 'cookie-secret';

export interface CookieSecretSource {
  /** COOKIE_SECRET */
  value?: string;
  /** COOKIE_SECRET_FILE */
  file?: string;
  dataDir: string;
  /** A secret an older version kept elsewhere (the database), adopted once if strong enough. */
  legacy?: () => string | undefined;
}

function strongEnough(secret: string, where: string): string {
  if (Buffer.byteLength(secret) < MIN_SECRET_BYTES) {
    throw new AppError('bad_request', `${where} is ${Buffer.byteLength(secret)} bytes; a cookie secret needs at least ${MIN_SECRET_BYTES} (for example: openssl rand -base64 48)`);
  }
  return secret;
}

export function loadCookieSecret(src: CookieSecretSource): string {
  if (src.value !== undefined && src.value !== '') return strongEnough(src.value, 'COOKIE_SECRET');
  if (src.file) {
    let text: string;
    try {
      text = fs.readFileSync(src.file, 'utf8');
    } catch (err) {
      throw new AppError('bad_request', `COOKIE_SECRET_FILE ${src.file} cannot be read: ${(err as Error).message}`);
    }
    return strongEnough(text.trim(), `COOKIE_SECRET_FILE ${src.file}`);
  }
  const file = path.join(src.dataDir, SECRET_FILE_NAME);
  try {
    const text = fs.readFileSync(file, 'utf8').trim();
    fs.chmodSync(file, 0o600); // a copy restored with a loose mode is tightened
    return strongEnough(text, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const old = src.legacy?.();
  const secret = old && Buffer.byteLength(old) >= MIN_SECRET_BYTES ? old : crypto.randomBytes(48).toString('base64url');
  fs.mkdirSync(src.dataDir, { recursive: true });
  try {
    // 'wx': never overwrite a secret another process wrote meanwhile; mode applies at creation.
    fs.writeFileSync(file, secret + '\n', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return strongEnough(fs.readFileSync(file, 'utf8').trim(), file);
    throw err;
  }
  return secret;
}

/** Cookie options: `Secure` when the request came over TLS (directly, or per a trusted proxy). */
export function learnerCookieOptions(secure: boolean) {
  return { httpOnly: true, sameSite: 'lax' as const, path: '/', maxAge: 365 * 24 * 3600 * 1000, secure };
}
