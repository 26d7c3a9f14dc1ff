// The workshop host token: compared in constant time, never logged in full, and no token means no
// host page (it used to fail open when the token was empty).
import crypto from 'node:crypto';

/** Constant-time comparison; hashing first makes the lengths equal, so the length leaks nothing either. */
export function tokenMatches(given: unknown, expected: string | undefined): boolean {
  if (!expected || typeof given !== 'string' || given === '') return false;
  const a = crypto.createHash('sha256').update(given).digest();
  const b = crypto.createHash('sha256').update(expected).digest();
  return crypto.timingSafeEqual(a, b);
}

/** What the log may show: the last 4 characters. */
export function redactToken(token: string): string {
  return `…${token.slice(-4)}`;
}
