// The workshop host's authentication. The token the server prints (or HOST_TOKEN) is used once, as
// ?token=…; it then becomes an http-only cookie, so it no longer rides in every URL, history entry
// and screenshot. Scrapers send it as a bearer token. Without a configured token everything is refused.
import crypto from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../errors.ts';
import { readCookie } from './learner-cookie.ts';

export const HOST_COOKIE = 'lablab_host';

/** The cookie's value: a MAC of the token, so the cookie alone does not reveal the token. */
export function hostCookieValue(token: string, secret: string): string {
  return crypto.createHmac('sha256', secret).update(`host:${token}`).digest('base64url');
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

/** Whether a request's cookie header carries a valid host cookie. False when no token is configured. */
export function isHostCookie(cookieHeader: string | undefined, token: string | undefined, secret: string): boolean {
  if (!token) return false;
  const v = readCookie(cookieHeader, HOST_COOKIE);
  return !!v && same(v, hostCookieValue(token, secret));
}

export interface HostAuthOptions {
  token: string | undefined;
  secret: string;
}

/** Express middleware for host-only routes (pages, CSV, /metrics). */
export function requireHost(opts: HostAuthOptions) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const token = opts.token;
    if (!token) throw new AppError('forbidden', 'The workshop host pages are off: this server has no HOST_TOKEN.');
    const given = typeof req.query.token === 'string' ? req.query.token : undefined;
    if (given !== undefined && same(given, token)) {
      res.cookie(HOST_COOKIE, hostCookieValue(token, opts.secret), { httpOnly: true, sameSite: 'strict', path: '/', maxAge: 7 * 24 * 3600 * 1000 });
      if (req.method === 'GET' && req.path !== '/metrics') {
        // Take the token out of the address bar (and the history) at once.
        const url = new URL(req.originalUrl, 'http://x');
        url.searchParams.delete('token');
        res.redirect(303, url.pathname + url.search);
        return;
      }
      return next();
    }
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ') && same(auth.slice(7).trim(), token)) return next();
    if (isHostCookie(req.headers.cookie, token, opts.secret)) return next();
    throw new AppError('forbidden', 'This page is for the workshop host: open the host link the server printed at start (/host?token=…) once in this browser.');
  };
}
