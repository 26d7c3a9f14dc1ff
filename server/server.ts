// Assembles the running server from its parts. Nothing happens on import: main.ts (or a test)
// calls startServer() with a config and the adapters to use.
import { clientAddress, createLearnerLimits } from './http/learner-limits.ts';
import { loadCookieSecret } from './http/secrets.ts';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config.ts';
import type { SandboxArchive, SandboxDriver } from '../sandbox/driver/types.ts';
import type { Lab, LabProblem } from './labs/types.ts';
import { openStore } from './sessions/store.ts';
import { createLease, type Lease } from './sessions/lease.ts';
import { attachRedisAdapter } from './realtime/redis-adapter.ts';
import { systemTimers } from './timers.ts';
import os from 'node:os';
import { SessionManager, type CheckService, type SessionManagerDeps } from './sessions/manager.ts';
import { createLabRegistry } from './catalogue/registry.ts';
import { createApp, portProxyDeps } from './http/app.ts';
import { createPortUpgrade } from './http/port-proxy.ts';
import { createSocketServer } from './realtime/socket-server.ts';
import type { PtyProcess } from './terminals/terminal.ts';
import { TUNING } from './config.ts';
import fs from 'node:fs';
import { createWarmPool, readMemAvailableMiB, type WarmPool } from './pool/warm-pool.ts';
import type { PoolKeySpec } from './pool/plan.ts';
import { createMetrics } from './metrics/metrics.ts';
import { openEventStore } from './workshop/event-store.ts';
import { createWorkshop } from './workshop/workshop.ts';
import { createWorkshopRoutes } from './workshop/routes.ts';
import { attachWorkshopNamespace } from './workshop/socket.ts';
import { createHintService } from './hints/hint-service.ts';

export interface ServerDeps {
  config: Config;
  driver: SandboxDriver;
  /** File transfer into sandboxes (editor, upload, download); optional so test fakes need not provide it. */
  archive?: SandboxArchive;
  loadLabs(dir: string): Promise<{ labs: Lab[]; problems: LabProblem[] }>;
  checks: CheckService;
  spawnPty(socketPath: string, cols: number, rows: number): PtyProcess;
  /** Picks each sandbox's terminal transport (server/terminals/transport.ts); default: spawnPty. */
  shellWire?: SessionManagerDeps['shellWire'];
  webDistDir: string;
  watchLabs?: boolean;
  log(msg: string, err?: unknown): void;
  /** MiB of memory the host can still give (default: MemAvailable). */
  memoryAvailableMiB?(): number;
}

export interface RunningServer {
  url: string;
  port: number;
  sessions: SessionManager;
  pool: WarmPool;
  /** Stops serving. Sandboxes keep running so a restarted server re-attaches to them. */
  close(): Promise<void>;
}

export async function startServer(deps: ServerDeps): Promise<RunningServer> {
  const { config, log } = deps;
  const store = await openStore(config.databaseUrl ?? config.dbFile);
  // Taken now (the loader is synchronous); when a secret file already exists the old copy is simply dropped.
  const legacySecret = await store.takeLegacySecret();
  const secret = loadCookieSecret({ value: config.cookieSecret, file: config.cookieSecretFile, dataDir: config.dataDir, legacy: () => legacySecret });
  // Replicas share PostgreSQL: reaping, sweeping and the warm pool run in the one holding this lease.
  const replicaId = config.replicaId ?? `${os.hostname()}-${process.pid}`;
  let onLease: (held: boolean) => void = () => {};
  const lease: Lease | undefined = config.databaseUrl
    ? createLease({ store, name: 'session-timers', holder: replicaId, ttlMs: TUNING.leaseTtlMs, timers: systemTimers, log, onChange: (h) => onLease(h) })
    : undefined;
  await lease?.renew();
  let announce: (labIds: string[]) => void = () => {};
  let reshape: () => void = () => {};
  const labs = await createLabRegistry({
    dir: config.labsDir,
    load: deps.loadLabs,
    watch: deps.watchLabs ?? true,
    log,
    onChange: (ids) => {
      log(`labs changed on disk: ${ids.join(', ')}`);
      announce(ids);
      reshape();
    },
  });
  for (const p of labs.problems()) log(`lab problem: ${p.file}:${p.line}: ${p.message}`);

  let sessionsRef: SessionManager | undefined;
  const memAvailable = deps.memoryAvailableMiB ?? (() => readMemAvailableMiB(() => fs.readFileSync('/proc/meminfo', 'utf8')));
  const pool = createWarmPool({
    driver: deps.driver,
    limits: config.limits,
    sessionMaxMs: config.sessionMaxMs,
    idleMaxMs: TUNING.poolIdleMaxMs,
    capacity: () => sessionsRef?.capacity() ?? { inUse: 0, queued: 0, max: config.maxSandboxes },
    memoryHeadroomMiB: () => memAvailable() - config.poolMemoryReserveMiB,
    idleSandboxMiB: TUNING.poolIdleSandboxMiB,
    maxInFlight: TUNING.poolMaxInFlight,
    networkStock: TUNING.poolNetworkStock,
    tickMs: TUNING.poolTickMs,
    refillQuietMs: TUNING.poolRefillQuietMs,
    now: () => Date.now(),
    log,
    onUnitReady: (ms) => metrics.poolUnitReady(ms),
  });
  const shapes = (): PoolKeySpec[] => {
    const seen = new Map<string, PoolKeySpec>();
    for (const lab of labs.all()) {
      if (lab.problems.length > 0 || lab.terms === 0) continue;
      const images = lab.images.filter((i) => i !== 'scratch');
      seen.set(`${lab.terms}|${[...images].sort().join(',')}`, { images, terms: lab.terms });
    }
    return [...seen.values()];
  };

  const events = openEventStore(config.dbFile);
  let workshopRef: ReturnType<typeof createWorkshop> | undefined;
  const metrics = createMetrics({
    sandboxes: () => {
      const byPhase = { starting: 0, ready: 0 };
      for (const rec of sessionsRef?.liveSessions() ?? []) {
        if (rec.phase === 'starting' || rec.phase === 'ready') byPhase[rec.phase] += labs.get(rec.labId)?.terms ?? 0;
      }
      const p = pool.stats();
      return { ...byPhase, pool_idle: p.idleSandboxes, pool_filling: p.fillingSandboxes };
    },
    pool: () => {
      const p = pool.stats();
      return { idle: p.idleSandboxes, target: p.targetSandboxes };
    },
    queueLength: () => sessionsRef?.stats().queued ?? 0,
    eventLearners: () => workshopRef?.activeLearners() ?? [],
  });

  let sendHint: Parameters<typeof createHintService>[0]['send'] = () => {};
  const hints = createHintService({
    lab: (id) => labs.get(id),
    send: (learnerId, h) => sendHint(learnerId, h),
    defaultStuckMs: TUNING.hintStuckMs,
    failuresBeforeHint: TUNING.hintAfterFailures,
    tickMs: 15_000,
    now: () => Date.now(),
  });

  const sessions = new SessionManager({
    config,
    store,
    driver: deps.driver,
    lab: (id) => labs.get(id),
    checks: deps.checks,
    spawnPty: deps.spawnPty,
    shellWire: deps.shellWire,
    now: () => Date.now(),
    log,
    pool,
    metrics: metrics.sessions,
    observer: hints.observer,
    lease,
  });
  sessionsRef = sessions;
  await sessions.restore();
  const poolSize = () => (!lease || lease.held() ? config.poolSize : 0);
  pool.configure(shapes(), poolSize());
  onLease = () => pool.configure(shapes(), poolSize());
  if (config.prepareTemplates) void prepareTemplates(deps.driver, shapes(), log);

  const limits = createLearnerLimits({ config: config.learnerLimits, dbFile: config.dbFile, liveSessions: () => sessions.liveSessions() });
  const workshop = createWorkshop({ events, lab: (id) => labs.get(id), labs: () => labs.all(), sessions, store, pool, now: () => Date.now(), log });
  workshopRef = workshop;
  workshop.prewarmAll();
  // Events added by the CLI while the server runs are pre-warmed too.
  const prewarmTimer = setInterval(() => workshop.prewarmAll(), 60_000);
  prewarmTimer.unref();
  const routes = createWorkshopRoutes({ workshop, hostToken: config.hostToken, secret, metrics, now: () => Date.now() });
  const app = createApp({ driver: deps.driver, archive: deps.archive, config, labs, sessions, store, secret, limits, webDistDir: deps.webDistDir, now: () => Date.now(), log, routes: [routes] });
  const httpServer = http.createServer(app);
  const sockets = createSocketServer(httpServer, {
    config, sessions, secret, limits, log,
    wouldCreate: async (learnerId, labId) => !(await store.liveSessionFor(learnerId, labId)),
    clientAddress: (req) => clientAddress(req, app.get('trust proxy fn')),
  });
  const workshopSocket = attachWorkshopNamespace(sockets.io, {
    workshop, sessions, hostToken: config.hostToken, secret, hintsFor: hints.hintsFor, gridPushMs: 1000, log,
  });
  sendHint = (learnerId, h) => workshopSocket.hint(learnerId, h);
  const redis = config.redisUrl ? await attachRedisAdapter(sockets.io, config.redisUrl, log) : undefined;
  reshape = () => pool.configure(shapes(), poolSize());
  // Port links carry WebSocket upgrades; socket.io keeps its own (it no longer destroys foreign ones).
  const portUpgrade = createPortUpgrade(portProxyDeps({ driver: deps.driver, sessions, labs, secret, config, limits, now: () => Date.now(), log }));
  httpServer.on('upgrade', (req, socket, head) => {
    if (portUpgrade(req, socket, head)) return;
    if (!(req.url ?? '').startsWith('/socket.io/')) socket.destroy();
  });
  announce = (ids) => {
    for (const labId of ids) sockets.io.emit('lab:changed', { labId });
  };

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => resolve());
  });
  const port = (httpServer.address() as AddressInfo).port;

  return {
    url: `http://localhost:${port}`,
    port,
    sessions,
    pool,
    async close() {
      clearInterval(prewarmTimer);
      hints.dispose();
      workshopSocket.dispose();
      await sessions.dispose();
      await lease?.dispose();
      await pool.dispose();
      await sockets.dispose();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
      labs.dispose();
      limits.dispose();
      await redis?.dispose();
      await store.close();
      events.close();
    },
  };
}

/** The first learner of a lab should not wait for its template: build each listed image set's now, one at a time. */
async function prepareTemplates(driver: SandboxDriver, shapes: PoolKeySpec[], log: ServerDeps['log']): Promise<void> {
  if (!driver.prepareImages) return;
  const sets = new Map(shapes.map((s) => [[...s.images].sort().join(','), s.images]));
  for (const images of sets.values()) {
    if (!images.length) continue;
    const t0 = Date.now();
    try {
      await driver.prepareImages(images);
      log(`template for ${images.join(', ')} ready (${Date.now() - t0} ms)`);
    } catch (err) {
      log(`template for ${images.join(', ')} could not be prepared; the first learner will try again`, err);
    }
  }
}
