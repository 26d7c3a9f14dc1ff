// The server fetches a "Try it" stack file, never the sandbox, under rules: an allowed URL prefix
// (STACK_URL_ALLOW), public addresses only (each resolved address checked, and the connection pinned
// to the address checked, so a second DNS answer cannot swap it), a size limit, an overall timeout
// and a few redirects, each re-checked from the start. Refusals say why.
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { LookupFunction } from 'node:net';
import { AppError } from '../errors.ts';
import { refusedAddress } from './address-rules.ts';

export interface StackFetchRules {
  /** URL prefixes a stack may come from, e.g. ["https://"] or ["https://raw.example.org/"]. */
  allowPrefixes: string[];
  /** Ranges the host allowed although private or loopback (STACK_URL_ALLOW_ADDRESSES). */
  allowedAddresses?: net.BlockList;
  maxBytes: number;
  timeoutMs: number;
  maxRedirects: number;
  /** Name resolution; default the system's (every address of the name). */
  resolve?(host: string): Promise<{ address: string; family: number }[]>;
}

const refuse = (url: string, why: string) => new AppError('bad_request', `The stack at ${url} was not fetched: ${why}.`);

const systemResolve = async (host: string) => dns.promises.lookup(host, { all: true, verbatim: true });

/** Checks a URL against the prefixes and returns the one address the connection must use. */
async function checkedTarget(url: URL, rules: StackFetchRules): Promise<{ address: string; family: number }> {
  const href = url.href;
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw refuse(href, 'only http and https URLs are fetched');
  if (url.username || url.password) throw refuse(href, 'URLs with a user name or password are not fetched');
  if (!rules.allowPrefixes.some((p) => prefixAllows(p, href))) {
    throw refuse(href, `this server fetches stacks only from URLs starting with ${rules.allowPrefixes.map((p) => `"${p}"`).join(' or ')} (STACK_URL_ALLOW)`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: { address: string; family: number }[];
  if (net.isIP(host)) addresses = [{ address: host, family: net.isIP(host) }];
  else {
    try {
      addresses = await (rules.resolve ?? systemResolve)(host);
    } catch {
      throw refuse(href, `the name ${host} does not resolve`);
    }
  }
  if (!addresses.length) throw refuse(href, `the name ${host} has no address`);
  for (const a of addresses) {
    const why = refusedAddress(a.address, rules.allowedAddresses);
    if (why) throw refuse(href, `${host === a.address ? '' : `${host} resolves to `}${why}`);
  }
  return addresses[0]!;
}

/**
 * A prefix allows the URLs that start with it; one that names a host (no path) allows that host
 * only: "http://127.0.0.1" allows "http://127.0.0.1:8080/x" but not "http://127.0.0.1.example.org/x".
 */
export function prefixAllows(prefix: string, href: string): boolean {
  if (!href.startsWith(prefix)) return false;
  const rest = prefix.split('://')[1];
  if (rest === undefined || rest === '' || rest.includes('/')) return true;
  const next = href.charAt(prefix.length);
  return next === '' || '/:?#'.includes(next);
}

type Hop = { kind: 'redirect'; location: string } | { kind: 'body'; text: string };

function requestOnce(url: URL, target: { address: string; family: number }, rules: StackFetchRules, signal: AbortSignal): Promise<Hop> {
  // Every name lookup of this request answers with the address that was checked.
  const lookup: LookupFunction = (_host, opts, cb) => {
    if ((opts as { all?: boolean }).all) (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [target]);
    else cb(null, target.address, target.family);
  };
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise<Hop>((resolve, reject) => {
    const req = mod.get(url, { lookup, signal, headers: { accept: 'text/plain, application/yaml, */*', 'user-agent': 'lablab-stack-fetch' } }, (res) => {
      const status = res.statusCode ?? 0;
      if ([301, 302, 303, 307, 308].includes(status)) {
        res.resume();
        const location = res.headers.location;
        if (!location) return reject(refuse(url.href, `it redirects (${status}) without saying where`));
        return resolve({ kind: 'redirect', location });
      }
      if (status !== 200) {
        res.resume();
        return reject(refuse(url.href, `the server answered ${status}`));
      }
      const declared = Number(res.headers['content-length'] ?? NaN);
      const tooLarge = () => refuse(url.href, `it is larger than ${Math.round(rules.maxBytes / 1024)} KB, the most a stack file may be`);
      if (declared > rules.maxBytes) {
        res.destroy();
        return reject(tooLarge());
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > rules.maxBytes) {
          res.destroy();
          reject(tooLarge());
        } else chunks.push(c);
      });
      res.on('end', () => resolve({ kind: 'body', text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', (err) => reject(err instanceof AppError ? err : signal.aborted ? refuse(url.href, `it did not arrive within ${rules.timeoutMs / 1000} s`) : refuse(url.href, `the connection failed (${(err as NodeJS.ErrnoException).code ?? err.message})`)));
  });
}

export async function fetchStack(raw: string, rules: StackFetchRules): Promise<{ url: string; text: string }> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AppError('bad_request', `"${raw.slice(0, 200)}" is not a URL.`);
  }
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), rules.timeoutMs);
  try {
    for (let hop = 0; ; hop++) {
      const target = await checkedTarget(url, rules);
      if (ctl.signal.aborted) throw refuse(url.href, `it did not arrive within ${rules.timeoutMs / 1000} s`);
      const got = await requestOnce(url, target, rules, ctl.signal);
      if (got.kind === 'body') return { url: url.href, text: got.text };
      if (hop >= rules.maxRedirects) throw refuse(raw, `it redirects more than ${rules.maxRedirects} times`);
      url = new URL(got.location, url);
    }
  } finally {
    clearTimeout(timer);
  }
}
