// Wires the running server from the parts main.ts (the one composition root) chose: the store, the
// clock, the sandbox driver, the secrets. Reads no env, opens no database, calls no clock itself.
import { clientAddress, createLearnerLimits } from './http/learner-limits.ts';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config.ts';
import type { SandboxArchive, SandboxDriver } from '../sandbox/driver/types.ts';
import type { Lab, LabProblem } from './labs/types.ts';
import type { Store } from './sessions/store.ts';
import { createLease, type Lease } from './sessions/lease.ts';
import { attachRedisAdapter } from './realtime/redis-adapter.ts';
import { SessionManager, type CheckService, type SessionManagerDeps } from './sessions/manager.ts';
import { createLabRegistry } from './catalogue/registry.ts';
import { createGitCli, type GitRunner } from './catalogue/git-cli.ts';
import { openGitLabs } from './catalogue/git-labs.ts';
import { createLabsHookRoute } from './http/labs-hook.ts';
import { createApp, portProxyDeps } from './http/app.ts';
import { createPortUpgrade } from './http/port-proxy.ts';
import { createSocketServer } from './realtime/socket-server.ts';
import type { PtyProcess } from './terminals/terminal.ts';
import { TUNING } from './config.ts';
import { createWarmPool, type WarmPool } from './pool/warm-pool.ts';
import type { PoolKeySpec } from './pool/plan.ts';
import { createMetrics } from './metrics/metrics.ts';
import type { EventStore } from './workshop/event-store.ts';
import { every, type Timers } from './timers.ts';
import { createWorkshop } from './workshop/workshop.ts';
import { createWorkshopRoutes } from './workshop/routes.ts';
import { attachWorkshopNamespace } from './workshop/socket.ts';
import { createHintService } from './hints/hint-service.ts';
import { createAccess } from './access/access.ts';
import type { AccessStore } from './access/access-store.ts';
import { PLAY_LAB_ID, playLab } from './playground/play-lab.ts';
import { createPlaygroundRoutes } from './playground/routes.ts';
import { playgroundSocket } from './playground/socket.ts';
import type { HostStats } from './playground/node-stats.ts';
import { createStackInbox } from './stacks/inbox.ts';
import { allowedRanges } from './stacks/address-rules.ts';

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
  /** The git command line for LABS_REPOS (default: the real one, 2 minutes per command). */
  git?: GitRunner;
  log(msg: string, err?: unknown): void;
  /** MiB of memory the host can still give. */
  memoryAvailableMiB(): number;
  /** Sessions, progress and learners. */
  store: Store;
  /** Workshop events. */
  events: EventStore;
  /** The learner cookie's key. */
  secret: string;
  /** This replica's name in leases (host and pid by default). */
  replicaId: string;
  /** The wall clock and timers for everything the server schedules. */
  timers: Timers;
  /** With several engines: whether one takes new sessions (not drained, not lost); the pool hands out nothing from others. */
  engineOpen?(engine: string): boolean;
  /** Share links and ssh credentials (server/access/); without it neither is offered. */
  access?: AccessStore;
  /** The ssh server (SSH_PORT), with the install's host key. */
  ssh?: { host: string; port: number; hostKey: string };
  /** The host engine's container stats, for the playground's per-node figures; without it they read 0. */
  hostStats?: HostStats;
}

export interface RunningServer {
  url: string;
  port: number;
  sessions: SessionManager;
  pool: WarmPool;
  /** The ssh server's port, when SSH_PORT turned it on. */
  sshPort?: number;
  /** Stops serving. Sandboxes keep running so a restarted server re-attaches to them. The store and
   * events stay open: whoever made them closes them. */
  close(): Promise<void>;
}

export async function createServer(deps: ServerDeps): Promise<RunningServer> {
  const { config, log, store, events, secret, timers } = deps;
  const now = () => timers.now();
  // Replicas share PostgreSQL: reaping, sweeping and the warm pool run in the one holding this lease.
  let onLease: (held: boolean) => void = () => {};
  const lease: Lease | undefined = config.databaseUrl
    ? createLease({ store, name: 'session-timers', holder: deps.replicaId, ttlMs: TUNING.leaseTtlMs, timers, log, onChange: (h) => onLease(h) })
    : undefined;
  await lease?.renew();
  let announce: (labIds: string[]) => void = () => {};
  let reshape: () => void = () => {};
  // LABS_REPOS: cloned before the catalogue loads; a refresh that moves a repository reloads it.
  let reloadLabs: () => Promise<void> = async () => {};
  const gitLabs = config.labsRepos.length
    ? await openGitLabs({ repos: config.labsRepos, dataDir: config.dataDir, git: deps.git ?? createGitCli({ timeoutMs: 120_000 }), timers, intervalMs: config.labsRefreshMs, onUpdated: () => reloadLabs(), log })
    : undefined;
  const labs = await createLabRegistry({
    dir: config.labsDir,
    extraDirs: gitLabs ? () => gitLabs.dirs() : undefined,
    load: deps.loadLabs,
    watch: deps.watchLabs ?? true,
    timers,
    log,
    onChange: (ids) => {
      log(`labs changed on disk: ${ids.join(', ')}`);
      announce(ids);
      reshape();
    },
  });
  for (const p of labs.problems()) log(`lab problem: ${p.file}:${p.line}: ${p.message}`);
  reloadLabs = () => labs.reload();

  let sessionsRef: SessionManager | undefined;
  const memAvailable = deps.memoryAvailableMiB;
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
    timers,
    log,
    onUnitReady: (ms) => metrics.poolUnitReady(ms),
    engineOpen: deps.engineOpen,
  });
  const shapes = (): PoolKeySpec[] => {
    const seen = new Map<string, PoolKeySpec>();
    for (const lab of labs.all()) {
      if (lab.problems.length > 0 || lab.terms === 0) continue;
      const images = lab.images.filter((i) => i !== 'scratch');
      seen.set(`${lab.terms}|${[...images].sort().join(',')}`, { images, terms: lab.terms });
    }
    // A playground starts with one node.
    const playKey = `1|${[...config.play.images].sort().join(',')}`;
    if (!seen.has(playKey)) seen.set(playKey, { images: config.play.images, terms: 1, most: config.play.poolSize });
    return [...seen.values()];
  };

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
    eventLearners: async () => (await workshopRef?.activeLearners()) ?? [],
  });

  let sendHint: Parameters<typeof createHintService>[0]['send'] = () => {};
  const hints = createHintService({
    lab: (id) => labs.get(id),
    send: (learnerId, h) => sendHint(learnerId, h),
    defaultStuckMs: TUNING.hintStuckMs,
    failuresBeforeHint: TUNING.hintAfterFailures,
    tickMs: 15_000,
    timers,
  });

  const sessions = new SessionManager({
    config,
    store,
    driver: deps.driver,
    // Each playground session gets its own copy: its node count changes while it runs.
    lab: (id) => (id === PLAY_LAB_ID ? playLab(config.play) : labs.get(id)),
    checks: deps.checks,
    spawnPty: deps.spawnPty,
    shellWire: deps.shellWire,
    timers,
    log,
    replicaId: deps.replicaId,
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
  if (config.prepareTemplates) void prepareTemplates(deps.driver, shapes(), now, log);

  // With replicas the caps count every replica's live sessions (the shared store's) and the counters
  // sit in Redis or PostgreSQL; alone, the manager's sessions and the SQLite file.
  const limits = createLearnerLimits({
    config: config.learnerLimits, dbFile: config.dbFile, shared: { redisUrl: config.redisUrl, databaseUrl: config.databaseUrl },
    liveSessions: () => (config.databaseUrl ? store.liveSessions() : sessions.liveSessions()), log,
  });
  const workshop = createWorkshop({ events, lab: (id) => labs.get(id), labs: () => labs.all(), sessions, store, pool, now, log });
  workshopRef = workshop;
  await workshop.prewarmAll();
  // Events added by the CLI or another replica while the server runs are pre-warmed too.
  const stopPrewarm = every(timers, 60_000, () => void workshop.prewarmAll().catch((err) => log('event pre-warm failed', err)));
  const access = deps.access
    ? await createAccess({
        store: deps.access, sessions, driver: deps.driver, titleOf: (id) => (id === PLAY_LAB_ID ? 'Playground' : labs.get(id)?.title), secret, limits, ssh: deps.ssh, timers, log,
        liveSessionIds: async () => (await store.liveSessions()).map((r) => r.id),
      })
    : undefined;
  const routes = createWorkshopRoutes({ workshop, hostToken: config.hostToken, secret, metrics, now });
  // "Try it" stacks: fetched by the server under STACK_URL_* rules, held per learner until their playground is up.
  const stackInbox = createStackInbox(now);
  const { allowPrefixes, allowAddresses, dir: stacksDir, maxBytes, timeoutMs, maxRedirects } = config.stacks;
  const stackSource = { stacksDir, rules: { allowPrefixes, allowedAddresses: allowedRanges(allowAddresses), maxBytes, timeoutMs, maxRedirects } };
  const playRoutes = createPlaygroundRoutes({ maxNodes: config.play.maxNodes, maxUploadBytes: config.maxUploadBytes, stacks: stackSource, inbox: stackInbox, log });
  const app = createApp({ driver: deps.driver, archive: deps.archive, config, labs, sessions, store, secret, limits, webDistDir: deps.webDistDir, now, log, routes: [
    routes,
    ...(access ? [access.router] : []),
    playRoutes,
    ...(config.labsHookSecret ? [createLabsHookRoute({ secret: config.labsHookSecret, refresh: () => gitLabs?.refresh() ?? Promise.resolve([]), log })] : []),
  ] });
  const httpServer = http.createServer(app);
  const sockets = createSocketServer(httpServer, {
    config, sessions, secret, limits, log,
    wouldCreate: async (learnerId, labId) => !(await store.liveSessionFor(learnerId, labId)),
    inEvent: (learnerId) => {
      const t = now();
      return events.eventsOf(learnerId).then((evs) => evs.some((e) => e.startsAt - 60 * 60_000 <= t && t <= e.endsAt));
    },
    clientAddress: (req) => clientAddress(req, app.get('trust proxy fn')),
    extensions: [playgroundSocket({ sessions, driver: deps.driver, host: deps.hostStats ?? { sample: async () => null }, inbox: stackInbox, timers, log })],
  });
  const workshopSocket = attachWorkshopNamespace(sockets.io, {
    workshop, sessions, hostToken: config.hostToken, secret, hintsFor: hints.hintsFor, gridPushMs: 1000, timers, crossReplica: !!config.redisUrl, log,
  });
  sendHint = (learnerId, h) => workshopSocket.hint(learnerId, h);
  access?.attach(sockets.io);
  const redis = config.redisUrl ? await attachRedisAdapter(sockets.io, config.redisUrl, log) : undefined;
  reshape = () => pool.configure(shapes(), poolSize());
  // Port links carry WebSocket upgrades; socket.io keeps its own (it no longer destroys foreign ones).
  const portUpgrade = createPortUpgrade(portProxyDeps({ driver: deps.driver, sessions, labs, secret, config, limits, now, log }));
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
    sshPort: access?.sshPort(),
    async close() {
      stopPrewarm();
      hints.dispose();
      workshopSocket.dispose();
      await sessions.dispose();
      await lease?.dispose();
      await pool.dispose();
      await access?.dispose();
      await sockets.dispose();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
      labs.dispose();
      gitLabs?.dispose();
      await limits.dispose();
      await redis?.dispose();
    },
  };
}

/** The first learner of a lab should not wait for its template: build each listed image set's now, one at a time. */
async function prepareTemplates(driver: SandboxDriver, shapes: PoolKeySpec[], now: () => number, log: ServerDeps['log']): Promise<void> {
  if (!driver.prepareImages) return;
  const sets = new Map(shapes.map((s) => [[...s.images].sort().join(','), s.images]));
  for (const images of sets.values()) {
    if (!images.length) continue;
    const t0 = now();
    try {
      await driver.prepareImages(images);
      log(`template for ${images.join(', ')} ready (${now() - t0} ms)`);
    } catch (err) {
      log(`template for ${images.join(', ')} could not be prepared; the first learner will try again`, err);
    }
  }
}
