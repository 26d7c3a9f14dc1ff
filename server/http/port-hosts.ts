// Per-port origins for port links (PORT_HOST_PATTERN, e.g. "p{port}-{node}-{lab}.ports.example.org").
// Each port of each node of each lab gets its own host, so an app that writes absolute links
// ("/static/app.css") or opens a WebSocket on "/ws" works unchanged, with no HTML rewriting, and its
// cookies and scripts live on an origin that is not ours. Pure: naming, parsing, tokens, headers.
import crypto from 'node:crypto';

/** The cookie that lets the owner (and only the owner) through on a port host. */
export const PORT_COOKIE = 'lab_port';
/** Where the main site sends the learner to pick up that cookie. */
export const AUTH_PATH = '/__lablab/auth';
const TOKEN_TTL_MS = 60_000;

export interface PortTarget {
  port: number;
  node: number;
  /** labKey() of the lab. */
  lab: string;
}

/** A DNS-safe, fixed-length stand-in for a lab id (lab ids are folder names: dots, underscores...). */
export function labKey(labId: string): string {
  return crypto.createHash('sha256').update(labId).digest('hex').slice(0, 10);
}

export function portHost(pattern: string, t: PortTarget): string {
  return pattern.replace('{port}', String(t.port)).replace('{node}', String(t.node)).replace('{lab}', t.lab);
}

/** The target a Host header names under the pattern, or null when it is not a port host. */
export function parsePortHost(pattern: string, host: string | undefined): PortTarget | null {
  if (!host) return null;
  const name = host.toLowerCase().replace(/:\d+$/, '');
  const re = new RegExp('^' + pattern.split(/(\{port\}|\{node\}|\{lab\})/).map((part) =>
    part === '{port}' ? '(?<port>\\d{1,5})' : part === '{node}' ? '(?<node>[1-6])' : part === '{lab}' ? '(?<lab>[0-9a-f]{10})' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
  ).join('') + '$');
  const m = re.exec(name);
  if (!m?.groups) return null;
  const port = Number(m.groups.port);
  if (port < 1 || port > 65535) return null;
  return { port, node: Number(m.groups.node), lab: m.groups.lab! };
}

const mac = (secret: string, body: string) => crypto.createHmac('sha256', secret).update(`port-token:${body}`).digest('base64url');

/** A short-lived hand-over from the main site to one port host: who, for which host, until when. */
export function signToken(secret: string, learnerId: string, host: string, now: number): string {
  const body = Buffer.from(JSON.stringify({ l: learnerId, h: host.toLowerCase().replace(/:\d+$/, ''), e: now + TOKEN_TTL_MS })).toString('base64url');
  return `${body}.${mac(secret, body)}`;
}

export function verifyToken(secret: string, token: string, host: string, now: number): string | undefined {
  const [body, sig] = token.split('.');
  if (!body || !sig) return undefined;
  const want = Buffer.from(mac(secret, body));
  const got = Buffer.from(sig);
  if (want.length !== got.length || !crypto.timingSafeEqual(want, got)) return undefined;
  try {
    const t = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { l?: unknown; h?: unknown; e?: unknown };
    if (typeof t.l !== 'string' || t.h !== host.toLowerCase().replace(/:\d+$/, '') || typeof t.e !== 'number' || t.e < now) return undefined;
    return t.l;
  } catch {
    return undefined;
  }
}

/** The learner's Cookie header for their app: our own cookies taken out, theirs kept. */
export function forwardCookies(header: string | undefined, ours: string[]): string | undefined {
  if (!header) return undefined;
  const kept = header.split(';').map((p) => p.trim()).filter((p) => p && !ours.includes(p.slice(0, p.indexOf('=') < 0 ? undefined : p.indexOf('=')).trim()));
  return kept.length ? kept.join('; ') : undefined;
}

/**
 * Upstream response headers as they may reach the browser. Never HSTS (it would pin our host, or
 * with includeSubDomains every port host, to HTTPS). Set-Cookie: dropped on a path-mode link (it
 * would land on the product's own origin); on a port host kept host-only (no Domain=, which could
 * reach the product's cookies) and never under one of our cookie names.
 */
export function filterResponseHeaders(headers: Record<string, string | string[] | undefined>, mode: 'path' | 'host', ours: string[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    const key = k.toLowerCase();
    if (key === 'strict-transport-security' || key === 'public-key-pins' || HOP.has(key)) continue;
    if (key === 'set-cookie') {
      if (mode === 'path') continue;
      const cookies = (Array.isArray(v) ? v : [v])
        .filter((c) => !ours.includes(c.slice(0, c.indexOf('=') < 0 ? undefined : c.indexOf('=')).trim()))
        .map((c) => c.split(';').filter((a) => !/^\s*domain\s*=/i.test(a)).join(';'));
      if (cookies.length) out[k] = cookies;
      continue;
    }
    out[k] = v;
  }
  return out;
}

const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'proxy-authenticate', 'trailer', 'te']);
