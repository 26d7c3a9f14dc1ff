// The learner's identity: a random id in a signed, http-only cookie. No account needed.
import crypto from 'node:crypto';

export const COOKIE_NAME = 'lab_learner';

export function signId(id: string, secret: string): string {
  const mac = crypto.createHmac('sha256', secret).update(id).digest('base64url').slice(0, 32);
  return `${id}.${mac}`;
}

/** The learner id if the value is well formed and its signature matches, else undefined. */
export function verifyId(value: string | undefined, secret: string): string | undefined {
  if (!value) return undefined;
  const dot = value.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const id = value.slice(0, dot);
  if (!/^[A-Za-z0-9_-]{8,64}$/.test(id)) return undefined;
  const expected = Buffer.from(signId(id, secret));
  const got = Buffer.from(value);
  return expected.length === got.length && crypto.timingSafeEqual(expected, got) ? id : undefined;
}

export function newLearnerId(): string {
  return crypto.randomBytes(12).toString('base64url');
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
