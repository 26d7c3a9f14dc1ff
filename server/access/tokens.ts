// Bearer tokens for share links and ssh logins. Pure: 256 random bits, kept only as a SHA-256 digest
// (a token this long cannot be guessed, so a fast hash is enough; a leaked database row opens nothing).
import crypto from 'node:crypto';

/** 32 random bytes, base64url: 43 characters, safe in a URL path and an ssh password prompt. */
export function newToken(): string {
  return crypto.randomBytes(32).toString('base64url');
}

export function hashToken(token: string): string {
  return crypto.createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Cheap shape check before any lookup: what newToken makes, nothing else. */
export function looksLikeToken(s: unknown): s is string {
  return typeof s === 'string' && /^[A-Za-z0-9_-]{43}$/.test(s);
}
