// /labs/:lab/port/:node/:port/… — the learner's browser reaching a port inside their own sandbox
// (a `{:data-port}` link). Bytes travel through an exec in the sandbox, never to a container IP,
// and only the learner who owns the session gets through.
import http from 'node:http';
import type { Request, Response } from 'express';
import type { SandboxDriver, SandboxRef } from '../../sandbox/driver/types.ts';
import { AppError } from '../errors.ts';
import { messagePage } from './pages.ts';

const TIMEOUT_MS = 30_000;
/** Hop-by-hop and identifying headers that must not reach the learner's app. */
const DROP = new Set(['connection', 'keep-alive', 'upgrade', 'proxy-connection', 'transfer-encoding', 'cookie', 'origin', 'referer']);

export interface PortProxyDeps {
  driver: SandboxDriver;
  /** The learner's ready sandbox for that lab and node, if any. */
  sandboxFor(learnerId: string, labId: string, node: number): SandboxRef | undefined;
  /** Rate limit per learner and address (learner-limits.ts); rejects with a clear AppError. */
  limit?(learnerId: string, address: string): Promise<void>;
  log(msg: string, err?: unknown): void;
}

export function createPortProxy(deps: PortProxyDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const node = Number(req.params.node);
    const port = Number(req.params.port);
    if (!Number.isInteger(node) || node < 1 || node > 6 || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw new AppError('bad_request', 'That link names no valid terminal and port.');
    }
    await deps.limit?.(req.learnerId, req.ip ?? '');
    const ref = deps.sandboxFor(req.learnerId, String(req.params.id), node);
    if (!ref) throw new AppError('not_found', `You have no running sandbox node${node} for this lab. Open the lab page first; the link works while its terminal is connected.`);

    const rest = String(req.originalUrl).split('/').slice(6).join('/');
    const headers: http.OutgoingHttpHeaders = { connection: 'close', host: `localhost:${port}` };
    for (const [k, v] of Object.entries(req.headers)) if (!DROP.has(k) && k !== 'host' && v !== undefined) headers[k] = v;

    const stream = await deps.driver.connectPort(ref, port);
    const nothingThere = () =>
      new AppError('sandbox_failed', `Nothing answered on port ${port} in node${node}. Is your container running with -p ${port}:…? Start it, then reload this page.`);
    await new Promise<void>((resolve, reject) => {
      const upstream = http.request({ createConnection: () => stream as never, method: req.method, path: '/' + rest, headers, timeout: TIMEOUT_MS }, (up) => {
        res.status(up.statusCode ?? 502);
        for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !DROP.has(k)) res.setHeader(k, v);
        // The learner's app is not ours: don't let our page policy break it, but keep it sandboxed from our origin.
        res.removeHeader('Content-Security-Policy');
        res.setHeader('Content-Security-Policy', 'sandbox allow-scripts allow-forms allow-popups');
        up.pipe(res);
        up.on('end', resolve);
        up.on('error', reject);
      });
      upstream.on('timeout', () => upstream.destroy(new AppError('timeout', `Port ${port} in node${node} did not answer within ${TIMEOUT_MS / 1000} s.`)));
      upstream.on('error', (err) => reject(err instanceof AppError ? err : nothingThere()));
      req.pipe(upstream);
    }).catch((err: unknown) => {
      stream.destroy();
      if (res.headersSent) return res.end();
      const e = err instanceof AppError ? err : nothingThere();
      res.status(e.status).type('html').send(messagePage(`Port ${port} on node${node}`, e.message, e.status));
    });
    stream.destroy();
  };
}
