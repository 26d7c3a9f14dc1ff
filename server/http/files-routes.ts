// /labs/:id/files/:node/… — the editor pane, uploads and downloads; /labs/:id/ports/:node — the
// ports a node listens on. Only the learner who owns the session reaches their sandbox; writes
// must come from our own pages (Origin), and every path is confined by server/files.
import express, { type Request, type Response, type Router } from 'express';
import type { SandboxDriver, SandboxRef } from '../../sandbox/driver/types.ts';
import { AppError, toErrorPayload } from '../errors.ts';
import { attachment, FILE_LIMITS, listeningPorts } from '../files/paths.ts';
import type { SandboxFiles } from '../files/sandbox-files.ts';

export interface FilesRoutesDeps {
  files: SandboxFiles;
  driver: Pick<SandboxDriver, 'exec'>;
  sandboxFor(learnerId: string, labId: string, node: number): SandboxRef | undefined;
  /** A save or an upload changed the sandbox: re-check pending checks, as after a command. */
  changed(learnerId: string, labId: string): void;
  allowedOrigins: string[];
  maxUploadBytes: number;
  /** Upload rate per learner (learner-limits.ts); rejects with a clear AppError. */
  limitUpload?(learnerId: string, bytes: number): Promise<void>;
  log(msg: string, err?: unknown): void;
}

export function createFilesRouter(deps: FilesRoutesDeps): Router {
  const r = express.Router({ mergeParams: true });

  const sandbox = (req: Request): SandboxRef => {
    const node = Number(req.params.node);
    if (!Number.isInteger(node) || node < 1 || node > 6) throw new AppError('bad_request', 'There is no such node.');
    const ref = deps.sandboxFor(req.learnerId, String(req.params.id), node);
    if (!ref) throw new AppError('not_found', `You have no running sandbox node${node} for this lab. Open the lab page; files are there while its terminal is connected.`);
    return ref;
  };
  const sameOrigin = (req: Request) => {
    const origin = req.headers.origin;
    let ok = false;
    try {
      ok = !!origin && (deps.allowedOrigins.includes(origin) || new URL(origin).host === req.headers.host);
    } catch {
      ok = false;
    }
    if (!ok) throw new AppError('forbidden', 'Files can only be changed from the lab page itself.');
  };
  const qpath = (req: Request) => (typeof req.query.path === 'string' ? req.query.path : '');
  // Errors as JSON for the page's fetch calls.
  const json = (fn: (req: Request, res: Response) => Promise<unknown>) => async (req: Request, res: Response) => {
    try {
      const out = await fn(req, res);
      if (out !== undefined) res.json({ ok: true, value: out });
    } catch (err) {
      if (!(err instanceof AppError)) deps.log(`${req.method} ${req.originalUrl} failed`, err);
      if (res.headersSent) return void res.destroy();
      res.status(err instanceof AppError ? err.status : 500).json({ ok: false, error: toErrorPayload(err) });
    }
  };

  r.get('/files/:node/list', json((req) => deps.files.list(sandbox(req), qpath(req))));
  r.get('/files/:node/read', json((req) => deps.files.read(sandbox(req), qpath(req))));
  r.get('/files/:node/version', json(async (req) => ({ version: await deps.files.version(sandbox(req), qpath(req)) })));

  r.put(
    '/files/:node/write',
    express.text({ type: () => true, limit: FILE_LIMITS.maxEditBytes + 1024 }),
    json(async (req) => {
      sameOrigin(req);
      const ref = sandbox(req);
      const base = typeof req.query.base === 'string' ? req.query.base : '';
      const out = await deps.files.write(ref, qpath(req), typeof req.body === 'string' ? req.body : '', base);
      deps.changed(req.learnerId, String(req.params.id));
      return out;
    }),
  );

  r.put(
    '/files/:node/upload',
    json(async (req) => {
      sameOrigin(req);
      const ref = sandbox(req);
      const size = Number(req.headers['content-length']);
      if (size > deps.maxUploadBytes) req.resume();
      else if (deps.limitUpload) {
        try {
          await deps.limitUpload(req.learnerId, Number.isFinite(size) ? size : deps.maxUploadBytes);
        } catch (err) {
          req.resume(); // drain what the browser is still sending, then refuse
          throw err;
        }
      }
      const out = await deps.files.upload(ref, qpath(req), size, req);
      deps.changed(req.learnerId, String(req.params.id));
      return out;
    }),
  );

  r.get('/files/:node/download', async (req, res) => {
    try {
      const d = await deps.files.download(sandbox(req), qpath(req));
      res.setHeader('Content-Disposition', attachment(d.name));
      res.type(d.kind === 'dir' ? 'application/x-tar' : 'application/octet-stream');
      if (d.size !== undefined) res.setHeader('Content-Length', String(d.size));
      d.stream.on('error', () => res.destroy());
      d.stream.pipe(res);
    } catch (err) {
      if (!(err instanceof AppError)) deps.log(`download failed`, err);
      res.status(err instanceof AppError ? err.status : 500).type('text/plain').send(toErrorPayload(err).message);
    }
  });

  r.get('/ports/:node', json(async (req) => {
    const ref = sandbox(req);
    const out = await deps.driver.exec(ref, ['cat', '/proc/net/tcp', '/proc/net/tcp6'], { timeoutMs: 5_000 });
    return { ports: listeningPorts(out.stdout) };
  }));

  return r;
}
