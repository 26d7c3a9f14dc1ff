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
import { SessionManager, type CheckService, type SessionManagerDeps } from './sessions/manager.ts';
import { createLabRegistry } from './catalogue/registry.ts';
import { createApp, portProxyDeps } from './http/app.ts';
import { createPortUpgrade } from './http/port-proxy.ts';
import { createSocketServer } from './realtime/socket-server.ts';
import type { PtyProcess } from './terminals/terminal.ts';

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
}

export interface RunningServer {
  url: string;
  port: number;
  sessions: SessionManager;
  /** Stops serving. Sandboxes keep running so a restarted server re-attaches to them. */
  close(): Promise<void>;
}

export async function startServer(deps: ServerDeps): Promise<RunningServer> {
  const { config, log } = deps;
  const store = openStore(config.dbFile);
  const secret = loadCookieSecret({ value: config.cookieSecret, file: config.cookieSecretFile, dataDir: config.dataDir, legacy: () => store.takeLegacySecret() });
  let announce: (labIds: string[]) => void = () => {};
  const labs = await createLabRegistry({
    dir: config.labsDir,
    load: deps.loadLabs,
    watch: deps.watchLabs ?? true,
    log,
    onChange: (ids) => {
      log(`labs changed on disk: ${ids.join(', ')}`);
      announce(ids);
    },
  });
  for (const p of labs.problems()) log(`lab problem: ${p.file}:${p.line}: ${p.message}`);

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
  });
  await sessions.restore();

  const limits = createLearnerLimits({ config: config.learnerLimits, dbFile: config.dbFile, liveSessions: () => store.liveSessions() });
  const app = createApp({ driver: deps.driver, archive: deps.archive, config, labs, sessions, store, secret, limits, webDistDir: deps.webDistDir, now: () => Date.now(), log });
  const httpServer = http.createServer(app);
  const sockets = createSocketServer(httpServer, {
    config, sessions, secret, limits, log,
    wouldCreate: (learnerId, labId) => !store.liveSessionFor(learnerId, labId),
    clientAddress: (req) => clientAddress(req, app.get('trust proxy fn')),
  });
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
    async close() {
      await sessions.dispose();
      await sockets.dispose();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
      labs.dispose();
      limits.dispose();
      store.close();
    },
  };
}
