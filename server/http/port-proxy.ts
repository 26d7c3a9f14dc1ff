// The learner's browser reaching a port inside their own sandbox. Bytes travel through an exec in
// the sandbox (driver.connectPort), never to a container IP, and only the learner who owns the
// session gets through. Two addressings:
// - path mode, /labs/:lab/port/:node/:port/…: works anywhere, but an app's absolute links leave the prefix;
// - host mode (PORT_HOST_PATTERN): each port has its own origin, the path goes through untouched,
//   so absolute links and WebSockets work. /labs/:lab/port/… then hands the learner over to it.
// WebSocket upgrades are relayed in both modes.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { NextFunction, Request, Response } from 'express';
import type { SandboxDriver, SandboxRef } from '../../sandbox/driver/types.ts';
import { AppError } from '../errors.ts';
import { COOKIE_NAME, readCookie, signId, verifyId } from './learner-cookie.ts';
import { messagePage } from './pages.ts';
import { AUTH_PATH, PORT_COOKIE, filterResponseHeaders, forwardCookies, labKey, parsePortHost, portHost, signToken, verifyToken } from './port-hosts.ts';

const TIMEOUT_MS = 30_000;
/** Hop-by-hop and identifying headers that must not reach the learner's app. */
const DROP = new Set(['connection', 'keep-alive', 'upgrade', 'proxy-connection', 'transfer-encoding', 'origin', 'referer', 'cookie', 'host']);
const OUR_COOKIES = [COOKIE_NAME, PORT_COOKIE];

export interface PortProxyDeps {
  driver: Pick<SandboxDriver, 'connectPort'>;
  /** The learner's ready sandbox for that lab and node, if any. */
  sandboxFor(learnerId: string, labId: string, node: number): SandboxRef | undefined;
  /** The lab whose labKey() this is. */
  labForKey(key: string): string | undefined;
  secret: string;
  /** PORT_HOST_PATTERN; absent = path mode only. */
  pattern?: string;
  now(): number;
  /** Rate limit per learner and address (learner-limits.ts); rejects with a clear AppError. */
  limit?(learnerId: string, address: string): Promise<void>;
  log(msg: string, err?: unknown): void;
}

type Mode = 'path' | 'host';

function validTarget(node: number, port: number): void {
  if (!Number.isInteger(node) || node < 1 || node > 6 || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new AppError('bad_request', 'That link names no valid terminal and port.');
  }
}

/** Seconds between tries of a browser page whose port has nothing listening yet. */
const RETRY_S = 2;
/** Seconds a browser tab waits for a port's first answer before it is shown the page that tries again. */
const FIRST_ANSWER_S = 8;
const noSandbox = (node: number) =>
  new AppError('not_found', `You have no running sandbox node${node} for this lab. Open the lab page first; the link works while its terminal is connected.`);
const nothingThere = (node: number, port: number) =>
  new AppError('sandbox_failed', `Nothing answered on port ${port} in node${node}. Is your container running with -p ${port}:…? Start it, then reload this page.`);

function upstreamHeaders(req: http.IncomingMessage, port: number, mode: Mode): http.OutgoingHttpHeaders {
  const headers: http.OutgoingHttpHeaders = { host: `localhost:${port}` };
  for (const [k, v] of Object.entries(req.headers)) if (!DROP.has(k) && v !== undefined) headers[k] = v;
  // On its own origin the app may have cookies of its own; on a path link it has none (they would be ours).
  if (mode === 'host') {
    const c = forwardCookies(req.headers.cookie, OUR_COOKIES);
    if (c) headers.cookie = c;
    if (req.headers.origin) headers.origin = req.headers.origin;
  }
  return headers;
}

async function relayHttp(deps: PortProxyDeps, req: Request, res: Response, ref: SandboxRef, port: number, path: string, mode: Mode): Promise<void> {
  const node = ref.node;
  // A browser tab (a GET for HTML) is often opened before the service listens. While a container is
  // still starting, the engine's port proxy may accept and then wait on it for minutes: such a tab
  // gets its answer within FIRST_ANSWER_S or a page that tries again by itself.
  const navigation = req.method === 'GET' && /text\/html/.test(req.headers.accept ?? '');
  const stream = await deps.driver.connectPort(ref, port);
  await new Promise<void>((resolve, reject) => {
    let firstAnswer: NodeJS.Timeout | undefined;
    const upstream = http.request({ createConnection: () => stream as never, method: req.method, path, headers: { ...upstreamHeaders(req, port, mode), connection: 'close' }, timeout: TIMEOUT_MS }, (up) => {
      clearTimeout(firstAnswer);
      res.status(up.statusCode ?? 502);
      for (const [k, v] of Object.entries(filterResponseHeaders(up.headers, mode, OUR_COOKIES))) res.setHeader(k, v);
      res.removeHeader('Content-Security-Policy');
      // On a path link the app shares our origin: keep its scripts away from our cookies and pages.
      if (mode === 'path') res.setHeader('Content-Security-Policy', 'sandbox allow-scripts allow-forms allow-popups');
      up.pipe(res);
      up.on('end', resolve);
      up.on('error', reject);
    });
    if (navigation) {
      firstAnswer = setTimeout(() => upstream.destroy(new AppError('sandbox_failed', `Port ${port} in node${node} has not answered yet (${FIRST_ANSWER_S} s).`)), FIRST_ANSWER_S * 1000);
    }
    upstream.on('timeout', () => upstream.destroy(new AppError('timeout', `Port ${port} in node${node} did not answer within ${TIMEOUT_MS / 1000} s.`)));
    upstream.on('error', (err) => {
      clearTimeout(firstAnswer);
      reject(err instanceof AppError ? err : nothingThere(node, port));
    });
    req.pipe(upstream);
  }).catch((err: unknown) => {
    stream.destroy();
    if (res.headersSent) return res.end();
    const e = err instanceof AppError ? err : nothingThere(node, port);
    // Nothing listens yet, or it has not answered yet: a tab tries again by itself; a script gets the sentence.
    const retry = navigation && e.code === 'sandbox_failed';
    const message = retry ? `${e.message.replace(/ Start it, then reload this page\.$/, '')} This page tries again every ${RETRY_S} s.` : e.message;
    res.status(e.status).type('html').send(messagePage(`Port ${port} on node${node}`, message, e.status, retry ? { refreshSeconds: RETRY_S } : {}));
  });
  stream.destroy();
}

/** /labs/:id/port/:node/:port/… on the main site. */
export function createPortProxy(deps: PortProxyDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const node = Number(req.params.node);
    const port = Number(req.params.port);
    validTarget(node, port);
    const labId = String(req.params.id);
    const ref = deps.sandboxFor(req.learnerId, labId, node);
    if (!ref) throw noSandbox(node);
    const rest = '/' + String(req.originalUrl).split('/').slice(6).join('/');
    if (deps.pattern && (req.method === 'GET' || req.method === 'HEAD')) {
      // Hand the owner over to the port's own origin with a one-minute token.
      const hostPort = /:(\d+)$/.exec(req.headers.host ?? '')?.[1];
      const host = portHost(deps.pattern, { port, node, lab: labKey(labId) }) + (hostPort ? `:${hostPort}` : '');
      const token = signToken(deps.secret, req.learnerId, host, deps.now());
      res.redirect(302, `${req.protocol}://${host}${AUTH_PATH}?t=${encodeURIComponent(token)}&next=${encodeURIComponent(rest)}`);
      return;
    }
    await deps.limit?.(req.learnerId, req.ip ?? '');
    await relayHttp(deps, req, res, ref, port, rest, 'path');
  };
}

interface HostTarget {
  port: number;
  node: number;
  labId: string;
}

function hostTarget(deps: PortProxyDeps, host: string | undefined): HostTarget | null {
  if (!deps.pattern) return null;
  const t = parsePortHost(deps.pattern, host);
  if (!t) return null;
  const labId = deps.labForKey(t.lab);
  return labId ? { port: t.port, node: t.node, labId } : { port: t.port, node: t.node, labId: '' };
}

/** Everything on a port host (mounted before the product's own routes and cookies). */
export function createPortHostHandler(deps: PortProxyDeps) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const t = hostTarget(deps, req.headers.host);
    if (!t) return next();
    const page = (e: AppError) => res.status(e.status).type('html').send(messagePage(`Port ${t.port} on node${t.node}`, e.message, e.status));
    try {
      if (!t.labId) throw new AppError('not_found', 'This port link belongs to no lab on this server.');
      if (req.path === AUTH_PATH) {
        const learner = verifyToken(deps.secret, String(req.query.t ?? ''), req.headers.host ?? '', deps.now());
        if (!learner) throw new AppError('forbidden', 'This port link has expired or is not yours. Open it again from your lab page.');
        res.cookie(PORT_COOKIE, signId(learner, deps.secret), { httpOnly: true, sameSite: 'lax', path: '/', secure: req.secure });
        const nextPath = typeof req.query.next === 'string' && req.query.next.startsWith('/') && !req.query.next.startsWith('//') ? req.query.next : '/';
        res.redirect(302, nextPath);
        return;
      }
      const learner = verifyId(readCookie(req.headers.cookie, PORT_COOKIE), deps.secret);
      if (!learner) throw new AppError('forbidden', 'This port belongs to another learner’s sandbox, or your link expired. Open it from your own lab page.');
      const ref = deps.sandboxFor(learner, t.labId, t.node);
      if (!ref) throw noSandbox(t.node);
      await deps.limit?.(learner, req.ip ?? '');
      await relayHttp(deps, req, res, ref, t.port, req.originalUrl, 'host');
    } catch (err) {
      if (!(err instanceof AppError)) deps.log(`port host ${req.headers.host} failed`, err);
      page(err instanceof AppError ? err : nothingThere(t.node, t.port));
    }
  };
}

/**
 * WebSocket (and any other) upgrades to a port: on a port host, or under /labs/:lab/port/… on the
 * main site. Returns false when the request is not for a port (socket.io's, say).
 */
export function createPortUpgrade(deps: PortProxyDeps) {
  return (req: http.IncomingMessage, socket: Duplex, head: Buffer): boolean => {
    const refuse = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n${text}\n`);
    };
    let ref: SandboxRef | undefined;
    let port: number;
    let path: string;
    let mode: Mode;
    const t = hostTarget(deps, req.headers.host);
    if (t) {
      const learner = verifyId(readCookie(req.headers.cookie, PORT_COOKIE), deps.secret);
      if (!learner || !t.labId) return refuse(403, 'This port belongs to another learner.'), true;
      ref = deps.sandboxFor(learner, t.labId, t.node);
      port = t.port;
      path = req.url ?? '/';
      mode = 'host';
    } else {
      const m = /^\/labs\/([^/?]+)\/port\/(\d+)\/(\d+)(\/[^]*|\?[^]*)?$/.exec(req.url ?? '');
      if (!m) return false;
      const learner = verifyId(readCookie(req.headers.cookie, COOKIE_NAME), deps.secret);
      if (!learner) return refuse(403, 'Open the lab page first: this request has no learner cookie.'), true;
      let labId: string;
      try {
        labId = decodeURIComponent(m[1]!);
      } catch {
        return refuse(400, 'Bad lab name.'), true;
      }
      const node = Number(m[2]);
      port = Number(m[3]);
      if (node < 1 || node > 6 || port < 1 || port > 65535) return refuse(400, 'No such node or port.'), true;
      ref = deps.sandboxFor(learner, labId, node);
      path = m[4] ? (m[4].startsWith('?') ? '/' + m[4] : m[4]) : '/';
      mode = 'path';
    }
    if (!ref) return refuse(404, 'You have no running sandbox for this port.'), true;
    void relayUpgrade(deps, req, socket, head, ref, port, path, mode).catch((err) => {
      deps.log(`upgrade to port ${port} failed`, err);
      refuse(502, `Nothing answered on port ${port}.`);
    });
    return true;
  };
}

async function relayUpgrade(deps: PortProxyDeps, req: http.IncomingMessage, socket: Duplex, head: Buffer, ref: SandboxRef, port: number, path: string, mode: Mode): Promise<void> {
  const up = await deps.driver.connectPort(ref, port);
  const headers = upstreamHeaders(req, port, mode);
  headers.connection = 'Upgrade';
  headers.upgrade = req.headers.upgrade ?? 'websocket';
  let head1 = `${req.method ?? 'GET'} ${path} HTTP/1.1\r\n`;
  for (const [k, v] of Object.entries(headers)) for (const one of Array.isArray(v) ? v : [v]) head1 += `${k}: ${String(one).replace(/[\r\n]/g, '')}\r\n`;
  up.write(head1 + '\r\n');
  if (head.length) up.write(head);

  // The app's answer head goes through the same header filter as plain HTTP, then bytes flow both ways.
  let buf = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) {
      if (buf.length > 64 * 1024) fail();
      return;
    }
    up.off('data', onData);
    const [status, ...lines] = buf.subarray(0, end).toString('latin1').split('\r\n');
    const raw: Record<string, string[]> = {};
    for (const l of lines) {
      const i = l.indexOf(':');
      if (i > 0) (raw[l.slice(0, i).trim().toLowerCase()] ??= []).push(l.slice(i + 1).trim());
    }
    const kept = filterResponseHeaders(raw, mode, OUR_COOKIES);
    // filterResponseHeaders drops hop-by-hop headers; a 101 needs its Upgrade/Connection back.
    for (const k of ['upgrade', 'connection']) if (raw[k]) kept[k] = raw[k]!;
    let out = `${status}\r\n`;
    for (const [k, v] of Object.entries(kept)) for (const one of Array.isArray(v) ? v : [v]) out += `${k}: ${one}\r\n`;
    socket.write(out + '\r\n');
    const rest = buf.subarray(end + 4);
    if (rest.length) socket.write(rest);
    up.pipe(socket);
    socket.pipe(up);
  };
  const fail = () => {
    up.destroy();
    socket.destroy();
  };
  up.on('data', onData);
  up.on('error', fail);
  socket.on('error', fail);
  up.on('end', () => socket.end());
  socket.on('close', () => up.destroy());
}
