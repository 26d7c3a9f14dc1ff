// The composition root: the only place that reads argv and env, picks the real adapters,
// handles signals and exits.
import { describeBoundary, readUsernsFacts } from '../sandbox/driver/userns.ts';
import { decideLsm, readLsmFacts } from '../sandbox/driver/lsm.ts';
import { describeHostPrereqs, readHostPrereqFacts } from '../sandbox/driver/host-prereqs.ts';
import { redactToken } from './http/host-token.ts';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, ConfigError } from './config.ts';
import { createServer } from './server.ts';
import fs from 'node:fs';
import os from 'node:os';
import { openStore } from './sessions/store.ts';
import { openEventStore } from './workshop/event-store.ts';
import { loadCookieSecret } from './http/secrets.ts';
import { readMemAvailableMiB } from './pool/warm-pool.ts';
import { systemTimers } from './timers.ts';
import { loadLabs } from './labs/load.ts';
import { withAppErrors } from './sandbox-edge.ts';
import { createSandboxBackend } from './engines.ts';
import { createCgroupManager } from '../sandbox/driver/host.ts';
import { stopTemplateBuilds } from '../sandbox/driver/templates.ts';
import { quickWake } from '../sandbox/driver/quick-wake.ts';
import { kernelPreempt, preemptLine } from '../sandbox/driver/kernel-preempt.ts';
import { createCheckService } from './sessions/check-service.ts';
import { attachDtachSocket } from './terminals/dtach-socket.ts';
import { spawnDtachAttach } from './terminals/dtach-pty.ts';
import { createTerminalTransport } from './terminals/transport.ts';
import { createGitCli } from './catalogue/git-cli.ts';
import Docker from 'dockerode';
import { createHostStats } from './playground/node-stats.ts';
import { createCgroupStats, firstStats } from './playground/cgroup-stats.ts';
import { createCgroupFs } from '../sandbox/driver/cgroup-fs.ts';
import { createLogger } from './log/logger.ts';
import { openAccessStore } from './access/access-store.ts';
import { loadSshConfig, SshConfigError } from './ssh/ssh-config.ts';
import { loadOrCreateHostKey } from './ssh/host-key.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// Human lines until the config says otherwise (LOG_FORMAT); stdout is the journal under systemd.
const write = (line: string) => void process.stdout.write(line);
let logger = createLogger({ format: 'human', write, stacks: !!process.env.DEBUG });
const log = (msg: string, err?: unknown): void => logger.log(msg, err);

async function main(): Promise<void> {
  let config;
  let sshConfig;
  try {
    config = loadConfig(process.argv.slice(2), process.env, process.cwd());
    sshConfig = loadSshConfig(process.env, config.host);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof SshConfigError) {
      console.error(`error: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  logger = createLogger({ format: config.logFormat ?? 'human', write, stacks: !!process.env.DEBUG });

  // Say at once whether this host can hold sandboxes to their limits (or why it refuses to start them).
  const cgroups = createCgroupManager({ allowUnlimited: config.allowUnlimited, log });
  log(await cgroups.describe(config.limits));
  log(describeBoundary(readUsernsFacts(), config.allowHostAccess));
  log(decideLsm(readLsmFacts((p) => fs.readFileSync(p, 'utf8'))).line);
  for (const p of describeHostPrereqs(readHostPrereqFacts())) log(p.line);
  const backend = createSandboxBackend({
    env: process.env,
    readFile: (p) => fs.readFileSync(p, 'utf8'),
    memoryMiB: config.limits.memoryMiB,
    timers: systemTimers,
    log,
    base: {
      dataDir: config.dataDir,
      sandboxImage: config.sandboxImage,
      ownerId: config.ownerId,
      cgroups,
      allowHostAccess: config.allowHostAccess,
      egress: config.egress,
      runtime: config.runtime,
      imagesDir: config.imagesDir,
      pullImages: config.pullImages,
      registryMirror: config.registryMirror,
      log,
    },
  });
  log(backend.describe);
  const driver = withAppErrors(backend.driver);
  // The adapters: the store, the wall clock and real timers, /proc/meminfo for headroom.
  // PostgreSQL when DATABASE_URL is set (replicas), else the SQLite file.
  const store = await openStore(config.databaseUrl ?? config.dbFile);
  const events = await openEventStore(config.databaseUrl ?? config.dbFile);
  const access = await openAccessStore(config.databaseUrl ?? config.dbFile);
  // Made once per install and kept in the data dir (0600): never shared with another install.
  const hostKey = sshConfig ? loadOrCreateHostKey(config.dataDir) : undefined;
  // Taken now (the secret loader is synchronous); when a secret file already exists the old copy is dropped.
  const legacySecret = await store.takeLegacySecret();
  const secret = loadCookieSecret({ value: config.cookieSecret, file: config.cookieSecretFile, dataDir: config.dataDir, legacy: () => legacySecret });
  const server = await createServer({
    config,
    store,
    events,
    secret,
    replicaId: config.replicaId ?? `${os.hostname()}-${process.pid}`,
    timers: systemTimers,
    engineOpen: backend.fleet ? (id) => backend.fleet!.engines().some((e) => e.id === id && !e.draining && !e.lost) : undefined,
    memoryAvailableMiB: () => readMemAvailableMiB(() => fs.readFileSync('/proc/meminfo', 'utf8')),
    driver,
    archive: driver,
    loadLabs,
    checks: createCheckService({ driver, timers: systemTimers, log }),
    spawnPty: attachDtachSocket,
    shellWire: createTerminalTransport({
      mode: config.terminalTransport ?? 'auto',
      spawnLocal: attachDtachSocket,
      spawnPty: spawnDtachAttach,
      ensureLocal: (ref) => driver.ensureShell(ref),
      shell: driver,
      log,
    }),
    webDistDir: path.join(root, 'web', 'dist'),
    git: createGitCli({ timeoutMs: 120_000 }),
    access,
    ssh: sshConfig && hostKey ? { ...sshConfig, hostKey: hostKey.privateKey } : undefined,
    // Playground CPU and memory: the sandbox's cgroup on this host, else the local engine's stats API;
    // a sandbox on another engine (ENGINES) shows none.
    hostStats: firstStats(
      createCgroupStats({ cg: createCgroupFs(), now: Date.now, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) }),
      createHostStats(new Docker({ socketPath: '/var/run/docker.sock' }), { remote: (ref) => !!ref.engine, log }),
    ),
    log,
  });
  await backend.start((ids, message) => server.sessions.lose(ids, message));
  if (config.labsRepos.length) {
    log(`labs from git: ${config.labsRepos.map((r) => r.display).join(', ')}; refreshed ${config.labsRefreshMs ? `every ${config.labsRefreshMs / 1000} s` : 'only'}${config.labsHookSecret ? `${config.labsRefreshMs ? ' and' : ''} on POST /hooks/labs` : config.labsRefreshMs ? '' : ' at start (set LABS_REFRESH or LABS_HOOK_SECRET)'}`);
  }
  // Signals are handled before "listening" is said: a supervisor (or a test) may stop the server the
  // moment it reads that line, and the stop must still be clean and logged.
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping (sandboxes keep running; the next start re-attaches to them)`);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    try {
      // First: a create waiting on a template build would otherwise hold the stop past the force exit.
      await stopTemplateBuilds();
      backend.dispose();
      await server.close();
      await store.close();
      await events.close();
      await access.close();
      await driver.dispose();
    } finally {
      process.exit(0);
    }
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  log(server.sshPort && hostKey
    ? `ssh: serving on ${sshConfig!.host}:${server.sshPort} (ssh -p ${server.sshPort} node1.<session>@<this host>); host key ${hostKey.fingerprint}${hostKey.created ? ', made now' : ''} in ${hostKey.file}`
    : 'ssh: off (set SSH_PORT to turn it on)');
  log(`terminals: TERMINAL_TRANSPORT=${config.terminalTransport ?? 'auto'}`);
  log(config.quickWake ? await quickWake(process.pid) : 'scheduler: default slices for the server (QUICK_WAKE=0)');
  log(preemptLine(kernelPreempt()));
  log(`Docker labs: listening on ${server.url} (labs from ${config.labsDir}, up to ${config.maxSandboxes} sandboxes)`);
  // Only the token's last 4 characters reach the log: logs are read by more people than the host.
  log(config.hostToken ? `Workshop host view: ${server.url}/host?token=${redactToken(config.hostToken)} (the HOST_TOKEN you set)` : 'Workshop host view: off (set HOST_TOKEN to turn it on)');
}

process.on('unhandledRejection', (err) => log('unhandled rejection (kept serving)', err));
main().catch((err) => {
  console.error(`fatal: ${err instanceof Error ? err.message : String(err)}`);
  if (err instanceof Error && err.stack) console.error(err.stack);
  process.exit(1);
});
