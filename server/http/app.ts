// The HTTP side: catalogue, lab pages, the host view, static assets, one final error handler.
import type { LearnerLimits } from './learner-limits.ts';
import express, { type NextFunction, type Request, type Response } from 'express';
import path from 'node:path';
import { EARLY_CLICKS_CSP_SOURCE } from './early-clicks.ts';
import type { LabRegistry } from '../catalogue/registry.ts';
import type { SandboxArchive, SandboxDriver } from '../../sandbox/driver/types.ts';
import { createFilesRouter } from './files-routes.ts';
import { createSandboxFiles } from '../files/sandbox-files.ts';
import { createPortHostHandler, createPortProxy, type PortProxyDeps } from './port-proxy.ts';
import { labKey } from './port-hosts.ts';
import { LAB_ASSETS_ROUTE, createLabAssets } from './lab-assets.ts';
import type { SessionManager } from '../sessions/manager.ts';
import type { Store } from '../sessions/store.ts';
import type { Config } from '../config.ts';
import { TUNING } from '../config.ts';
import { AppError, toErrorPayload } from '../errors.ts';
import { COOKIE_NAME, newLearnerId, readCookie, signId, verifyId } from './learner-cookie.ts';
import { learnerCookieOptions } from './secrets.ts';
import { cataloguePage, labPage, messagePage } from './pages.ts';

export interface AppDeps {
  driver: SandboxDriver;
  /** Moves files in and out of sandboxes (the editor, uploads, downloads); without it those routes are absent. */
  archive?: SandboxArchive;
  config: Config;
  labs: LabRegistry;
  sessions: SessionManager;
  store: Store;
  secret: string;
  limits?: LearnerLimits;
  webDistDir: string;
  now(): number;
  log(msg: string, err?: unknown): void;
  /** More routes (workshops, the host's pages, /metrics), mounted after the learner cookie is known. */
  routes?: express.RequestHandler[];
}

declare module 'express-serve-static-core' {
  interface Request {
    learnerId: string;
  }
}

export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // Which proxies may say the request came over TLS (X-Forwarded-Proto), for the cookie's Secure flag.
  app.set('trust proxy', deps.config.trustProxy ?? 'loopback');

  app.use((req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'same-origin');
    // Lab HTML is sanitized (server/labs/html.ts), but defence in depth: no inline or foreign scripts.
    res.setHeader('Content-Security-Policy', `default-src 'self'; script-src 'self' ${EARLY_CLICKS_CSP_SOURCE}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'`);
    next();
  });

  const ports = portProxyDeps(deps);
  // A port's own origin (PORT_HOST_PATTERN) is the learner's app, not our site: before our routes and cookies.
  if (ports.pattern) app.use(createPortHostHandler(ports));

  app.get('/healthz', (_req, res) => {
    res.json({ ok: true, ...deps.sessions.stats() });
  });

  app.get('/favicon.ico', (_req, res) => {
    res.type('image/svg+xml').send('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#0b1a2e"/><rect x="4" y="4" width="8" height="8" fill="#60a5fa"/></svg>');
  });

  app.use('/assets', express.static(deps.webDistDir, { maxAge: '1h', fallthrough: false }));

  // A lab's own pictures: before the learner cookie, since an <img> needs no identity.
  app.get(LAB_ASSETS_ROUTE, createLabAssets({ labs: deps.labs }));

  // Every page visitor is a learner with a signed, http-only id.
  app.use((req, res, next) => {
    let id = verifyId(readCookie(req.headers.cookie, COOKIE_NAME), deps.secret);
    if (!id) {
      id = newLearnerId();
      res.cookie(COOKIE_NAME, signId(id, deps.secret), learnerCookieOptions(req.secure));
    }
    req.learnerId = id;
    next();
  });

  app.get('/', async (req, res) => {
    // Play-With-Docker's "Try it" links (/?stack=…&stack_name=…) open a playground here.
    if (typeof req.query.stack === 'string') return res.redirect(302, `/play${req.originalUrl.slice(req.path.length)}`);
    const entries = await Promise.all(deps.labs.all().map(async (lab) => {
      const total = lab.steps.reduce((n, s) => n + s.checks.length, 0);
      const passed = (await deps.store.progress(req.learnerId, lab.id)).filter((p) => p.status === 'pass').length;
      return { lab, passed: Math.min(passed, total), total };
    }));
    res.type('html').send(cataloguePage(entries));
  });

  app.get('/api/labs', (req, res) => {
    res.json(
      deps.labs.all().map((l) => ({
        id: l.id, title: l.title, description: l.description, duration: l.duration, difficulty: l.difficulty, terms: l.terms,
        steps: l.steps.map((s) => ({ id: s.id, title: s.title, checks: s.checks.length })),
        problems: l.problems,
        warnings: l.warnings ?? [],
      })),
    );
  });

  app.get('/labs/:id', async (req, res) => {
    const lab = deps.labs.get(String(req.params.id));
    if (!lab) throw new AppError('not_found', `There is no lab called "${req.params.id}". It may have been renamed; pick one from the list.`);
    const progress = await deps.store.progress(req.learnerId, lab.id);
    res.type('html').send(
      labPage(lab, {
        labId: lab.id,
        title: lab.title,
        terms: lab.terms,
        steps: lab.steps.map((s) => ({ id: s.id, title: s.title, checks: s.checks.map((c) => c.id) })),
        progress: progress.map(({ id, stepId, status, message, actual, expected }) => ({ id, stepId, status, message, actual, expected })),
        maxPasteBytes: TUNING.maxPasteBytes,
        maxUploadBytes: deps.config.maxUploadBytes,
        ...(lab.variables ? { variables: await deps.sessions.variables.values(req.learnerId, lab.id) } : {}),
      }),
    );
  });

  if (deps.archive) {
    app.use('/labs/:id', createFilesRouter({
      files: createSandboxFiles({ driver: deps.driver, archive: deps.archive, maxUploadBytes: deps.config.maxUploadBytes }),
      driver: deps.driver,
      sandboxFor: (learner, lab, node) => deps.sessions.sandboxFor(learner, lab, node),
      changed: (learner, lab) => deps.sessions.poke(learner, lab),
      allowedOrigins: deps.config.allowedOrigins,
      maxUploadBytes: deps.config.maxUploadBytes,
      limitUpload: deps.limits ? (learner, bytes) => deps.limits!.upload(learner, bytes) : undefined,
      log: deps.log,
    }));
  }

  app.all('/labs/:id/port/:node/:port{/*rest}', createPortProxy(ports));

  for (const r of deps.routes ?? []) app.use(r);

  app.use((_req, _res) => {
    throw new AppError('not_found', 'There is nothing at this address.');
  });

  // The single final error handler: people see a sentence, never a stack trace.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const payload = toErrorPayload(err);
    const status = err instanceof AppError ? err.status : (err as { status?: number }).status === 404 ? 404 : 500;
    if (status >= 500 && !(err instanceof AppError)) deps.log(`${req.method} ${req.path} failed`, err);
    if (status === 404 && !(err instanceof AppError)) payload.message = 'There is nothing at this address.';
    if (req.path.startsWith('/api/') || req.path.startsWith('/assets/')) res.status(status).json({ ok: false, error: payload });
    else res.status(status).type('html').send(messagePage(status === 404 ? 'Not found' : 'Something went wrong', payload.message, status));
  });

  return app;
}

export function portProxyDeps(deps: Pick<AppDeps, 'driver' | 'sessions' | 'labs' | 'secret' | 'config' | 'limits' | 'now' | 'log'>): PortProxyDeps {
  return {
    driver: deps.driver,
    sandboxFor: (learner, lab, node) => deps.sessions.sandboxFor(learner, lab, node),
    labForKey: (key) => deps.labs.all().find((l) => labKey(l.id) === key)?.id,
    secret: deps.secret,
    pattern: deps.config.portHostPattern,
    limit: deps.limits ? (learner, address) => deps.limits!.portRequest(learner, address) : undefined,
    now: deps.now,
    log: deps.log,
  };
}

export function webDistDir(root: string): string {
  return path.join(root, 'web', 'dist');
}
