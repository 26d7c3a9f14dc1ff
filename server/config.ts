// Pure: argv + env in, a validated Config out. main.ts is the only caller that passes real process values.
import crypto from 'node:crypto';
import path from 'node:path';
import { parseArgs as nodeParseArgs } from 'node:util';
import { LabsRepoError, parseLabsRepos, type LabsRepo } from './catalogue/labs-repos.ts';

/** Longest data-dir path for which sandbox unix sockets (…/sandboxes/<id>/attach/docker.sock) stay under sun_path's limit. */
const MAX_DATA_DIR = 100 - '/sandboxes/0123456789ab/attach/docker.sock'.length;

/**
 * `.data` in the project folder, unless that path is too long for unix sockets (a deep checkout):
 * then a short folder under /var/lib/lablab named after the project folder.
 */
export function defaultDataDir(cwd: string): string {
  const local = path.resolve(cwd, '.data');
  if (local.length <= MAX_DATA_DIR) return local;
  return path.join('/var/lib/lablab', crypto.createHash('sha256').update(path.resolve(cwd)).digest('hex').slice(0, 10));
}

/** Tuning constants, grouped, each with the reason for its value. */
export const TUNING = {
  /**
   * Pause the pty when this many chars are sent but not yet rendered by a browser. It bounds what a
   * slow tab can make the server hold, and what is still to draw after a Ctrl-C (400k chars are a
   * few ms of xterm.js parsing).
   */
  flowHighWatermark: 400_000,
  /**
   * Resume below this. Half the high mark keeps data flowing while acks come back; with VS Code's
   * 5k the pipe drained to empty on every pause and a fast browser got 8 MB/s instead of 36+
   * (bench:terminal). The browser acks every `flowAckEvery` chars, which must not exceed it.
   */
  flowLowWatermark: 200_000,
  flowAckEvery: 5_000,
  /** Output is batched this long to cut socket.io frames; a keystroke's echo skips the wait. */
  outputBatchMs: 4,
  /** A keystroke within this window flushes the next output at once (echo stays instant). */
  echoWindowMs: 50,
  /** Scrollback kept per terminal for replay after reload/restart. */
  scrollbackBytes: 256 * 1024,
  /** Largest single input message (a paste is split by the browser into pieces this big). */
  maxInputChunk: 64 * 1024,
  /** Largest paste the browser will send at once; beyond it the learner gets a clear message. */
  maxPasteBytes: 1024 * 1024,
  /** Terminal size bounds; anything outside is clamped (a 0x0 resize becomes the minimum). */
  minCols: 10, maxCols: 500, minRows: 3, maxRows: 200,
  /** socket.io frame cap: a bit above maxInputChunk so a max chunk fits with its envelope. */
  maxSocketMessageBytes: 128 * 1024,
  /** How long one check may take before it is reported as timed out. */
  checkTimeoutMs: 10_000,
  /** How often the reaper looks for expired or orphaned sandboxes. */
  reapIntervalMs: 60_000,
  /** Replicas (DATABASE_URL): how long the lease for reaping and the pool outlives a replica that died. */
  leaseTtlMs: 15_000,
  /** How often queued learners are re-examined for a free slot. */
  queueTickMs: 2_000,
  /** What one idle pooled sandbox costs (measured ~36 MiB), rounded up: the pool's memory budget unit. */
  poolIdleSandboxMiB: 40,
  /** Pool creates in flight at once: the engine serialises network creation and start, so more only queue there. */
  poolMaxInFlight: 3,
  /** Pre-made session networks kept for cold creates (network creation is the engine's slowest serial step). */
  poolNetworkStock: 4,
  /** Refills wait for this long without a take: a rush's takes go first, creates after (they load the engine and CPU). */
  poolRefillQuietMs: 3_000,
  /** How often the pool re-plans when nothing told it to. */
  poolTickMs: 2_000,
  /** An idle pooled unit older than this is replaced, so a taken unit always outlives its session. */
  poolIdleMaxMs: 60 * 60_000,
  /** An event pre-warms this long before it starts. */
  eventPrewarmLeadMs: 15 * 60_000,
  /** A step's hint shows after this many failing evaluations... */
  hintAfterFailures: 2,
  /** ...or after this long on the step without passing (a lab's `hint_after:` overrides it). */
  hintStuckMs: 10 * 60_000,
} as const;

export interface Config {
  port: number;
  host: string;
  labsDir: string;
  /** LABS_REPOS: git repositories whose labs are served too (server/catalogue/labs-repos.ts). */
  labsRepos: LabsRepo[];
  /** LABS_HOOK_SECRET: turns on POST /hooks/labs, which refreshes them. */
  labsHookSecret?: string;
  /** LABS_REFRESH: how often they are fetched; 0 = only on the hook. */
  labsRefreshMs: number;
  dataDir: string;
  dbFile: string;
  /** DATABASE_URL: a postgres:// URL puts the store in PostgreSQL (needed for replicas); else SQLite in dbFile. */
  databaseUrl?: string;
  /** REDIS_URL: socket.io's Redis adapter, so replicas behind a sticky proxy serve one event. */
  redisUrl?: string;
  /** REPLICA_ID: this replica's name in leases and logs (default: host name and pid). */
  replicaId?: string;
  /** Secret used to sign the learner cookie; generated and stored in dataDir when not given. */
  cookieSecret?: string;
  /** Allowed Origin values for websocket upgrades; empty = same host as the request. */
  allowedOrigins: string[];
  sessionTtlMs: number;
  /** A queued session nobody watches (no socket) this long leaves the queue (QUEUE_ABANDON). */
  queueAbandonMs: number;
  /** How much a click on "extend" adds (capped at sessionMaxMs from creation). */
  sessionExtendMs: number;
  sessionMaxMs: number;
  maxSandboxes: number;
  sandboxImage?: string;
  limits: { memoryMiB: number; pids: number; cpuShares: number; diskGiB: number };
  /** Start sandboxes even on a host whose cgroups cannot enforce `limits` (SANDBOX_ALLOW_UNLIMITED=1). */
  allowUnlimited: boolean;
  /** Start sandboxes without a user namespace where the host has none (SANDBOX_ALLOW_HOST_ACCESS=1): root in them is host root. */
  allowHostAccess: boolean;
  /** A short id that marks this server's sandboxes (label), so two servers on one engine don't reap each other. */
  ownerId: string;
  /** Shown on the workshop host page; empty = page disabled. */
  hostToken?: string;
  /** Largest single upload into a sandbox (UPLOAD_LIMIT_MB). */
  maxUploadBytes: number;
  /**
   * Gives each port link its own origin, e.g. "p{port}-{node}-{lab}.labs.example.org" (PORT_HOST_PATTERN;
   * a wildcard DNS name pointing at this server). Empty: links stay under /labs/:lab/port/.
   */
  portHostPattern?: string;
  /** A file holding the cookie secret (COOKIE_SECRET_FILE). */
  cookieSecretFile?: string;
  /** Express "trust proxy" (TRUST_PROXY): which proxies' X-Forwarded-Proto decides the cookie's Secure flag. */
  trustProxy: string | boolean;
  /** SANDBOX_EGRESS and SANDBOX_EGRESS_ALLOW. */
  egress: { mode: 'none' | 'internet' | 'allowlist'; allow: string[] };
  /** SANDBOX_RUNTIME: a host engine runtime such as sysbox-runc or runsc. */
  runtime?: string;
  learnerLimits: LearnerLimitsConfig;
  /** How terminals reach sandbox shells (TERMINAL_TRANSPORT): auto (default), local (host dtach), exec (engine API). */
  terminalTransport?: 'auto' | 'local' | 'pty' | 'exec';
  /** LOG_FORMAT: human lines (default) or one JSON object a line. */
  logFormat?: 'human' | 'json';
  /** Folder of `docker save` tarballs for a lab's images on an offline host (default <dataDir>/images). */
  imagesDir: string;
  /** Whether the host pulls a lab's missing images once (PULL_IMAGES=0 turns it off). */
  pullImages: boolean;
  /** A registry mirror for the sandboxes' inner engines only. */
  registryMirror?: string;
  /** Ready sandboxes kept per image set of the listed labs (0 = no warm pool). */
  poolSize: number;
  /** Memory (MiB) the pool always leaves free for running learners. */
  poolMemoryReserveMiB: number;
  /** Build the listed labs' templates at start rather than at the first learner. */
  prepareTemplates: boolean;
  /** QUICK_WAKE (default on): the server's main thread gets a short scheduler slice at start (sandbox/driver/quick-wake.ts). */
  quickWake: boolean;
  /** The playground (/play): most nodes one session may have (PLAY_MAX_NODES), the images each starts with (PLAY_IMAGES), ready nodes pooled (PLAY_POOL_SIZE, within POOL_SIZE). */
  play: { maxNodes: number; images: string[]; poolSize: number };
  /** "Try it" stack links: where the server may fetch them from, how much, how long; STACKS_DIR for offline hosts. */
  stacks: { allowPrefixes: string[]; allowAddresses: string[]; dir?: string; maxBytes: number; timeoutMs: number; maxRedirects: number };
}

/** Per-learner and per-address caps and rates (see server/http/learner-limits.ts). */
export interface LearnerLimitsConfig {
  sessionsPerLearner: number;
  sessionsPerAddress: number;
  /** Per minute, per learner unless said otherwise. */
  sessionCreatesPerMinute: number;
  checkRunsPerMinute: number;
  inputBytesPerSecond: number;
  uploadBytesPerMinute: number;
  portRequestsPerMinute: number;
}

export class ConfigError extends Error {}

function intOpt(name: string, raw: string | undefined, def: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  return n;
}

function flagOpt(name: string, raw: string | undefined): boolean {
  if (raw === undefined || raw === '' || raw === '0') return false;
  if (raw === '1') return true;
  throw new ConfigError(`${name} must be 1 or 0, got "${raw}"`);
}

function durationOpt(name: string, raw: string | undefined, defMs: number): number {
  if (raw === undefined || raw === '') return defMs;
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(raw.trim());
  if (!m) throw new ConfigError(`${name} must be a duration like 90s, 30m or 4h, got "${raw}"`);
  const unit = m[2] ?? 'm';
  const mult = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000;
  return Math.round(Number(m[1]) * mult);
}

function trustProxyOpt(raw: string | undefined): string | boolean {
  if (raw === undefined || raw === '') return 'loopback';
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  return raw; // express's own syntax: "loopback", "uniquelocal", addresses/CIDRs, comma-separated
}

function egressOpt(mode: string | undefined, allow: string | undefined): Config['egress'] {
  const m = mode || 'internet';
  if (m !== 'none' && m !== 'internet' && m !== 'allowlist') throw new ConfigError(`SANDBOX_EGRESS must be none, internet or allowlist, got "${m}"`);
  const list = (allow ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (m === 'allowlist' && list.length === 0) throw new ConfigError('SANDBOX_EGRESS=allowlist needs SANDBOX_EGRESS_ALLOW (hosts, IPs or CIDRs, comma-separated)');
  return { mode: m, allow: list };
}

/** Parses `--name value` / `--name=value` flags with node:util's parseArgs. Unknown flags are an
 * error, so typos don't pass silently; its errors are reworded into ConfigErrors for people. */
export function parseArgs(argv: string[], known: readonly string[]): Record<string, string> {
  const options = Object.fromEntries(known.map((k) => [k, { type: 'string' as const }]));
  try {
    const { values } = nodeParseArgs({ args: argv, options, strict: true, allowPositionals: false });
    return { ...(values as Record<string, string>) };
  } catch (err) {
    throw new ConfigError(argsErrorMessage(err, known));
  }
}

/** node:util's parse errors as the sentences our commands print (the same as before parseArgs). */
export function argsErrorMessage(err: unknown, known?: readonly string[]): string {
  const code = (err as { code?: string }).code;
  const msg = err instanceof Error ? err.message : String(err);
  const quoted = /'(-{0,2}[^' ]+)/.exec(msg)?.[1] ?? '';
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return known ? `unknown option ${quoted} (known: ${known.map((k) => '--' + k).join(', ')})` : `unknown option ${quoted}`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') return `${quoted} needs a value`;
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return `unexpected argument "${quoted}"`;
  return msg;
}

const FLAGS = ['port', 'host', 'labs', 'data', 'max-sandboxes', 'session-ttl', 'pool-size'] as const;

export function loadConfig(argv: string[], env: Record<string, string | undefined>, cwd: string): Config {
  const a = parseArgs(argv, FLAGS);
  const given = a['data'] ?? env.DATA_DIR;
  const dataDir = given ? path.resolve(cwd, given) : defaultDataDir(cwd);
  const maxSandboxes = intOpt('max-sandboxes', a['max-sandboxes'] ?? env.MAX_SANDBOXES, 50, 1, 10_000);
  return {
    port: intOpt('port', a['port'] ?? env.PORT, 8080, 0, 65535),
    host: a['host'] ?? env.HOST ?? '0.0.0.0',
    labsDir: path.resolve(cwd, a['labs'] ?? env.LABS_DIR ?? 'labs'),
    labsRepos: labsReposOpt(env.LABS_REPOS),
    labsHookSecret: labsHookSecretOpt(env.LABS_HOOK_SECRET),
    labsRefreshMs: durationOpt('LABS_REFRESH', env.LABS_REFRESH, 0),
    dataDir,
    dbFile: env.DB_FILE ? path.resolve(cwd, env.DB_FILE) : path.join(dataDir, 'lablab.sqlite'),
    databaseUrl: databaseUrl(env.DATABASE_URL),
    redisUrl: env.REDIS_URL || undefined,
    replicaId: env.REPLICA_ID || undefined,
    cookieSecret: env.COOKIE_SECRET || undefined,
    allowedOrigins: (env.ALLOWED_ORIGINS ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    sessionTtlMs: durationOpt('session-ttl', a['session-ttl'] ?? env.SESSION_TTL, 4 * 3_600_000),
    sessionExtendMs: durationOpt('SESSION_EXTEND', env.SESSION_EXTEND, 30 * 60_000),
    queueAbandonMs: durationOpt('QUEUE_ABANDON', env.QUEUE_ABANDON, 2 * 60_000),
    sessionMaxMs: durationOpt('SESSION_MAX', env.SESSION_MAX, 8 * 3_600_000),
    maxSandboxes,
    sandboxImage: env.SANDBOX_IMAGE || undefined,
    limits: {
      memoryMiB: intOpt('SANDBOX_MEMORY_MIB', env.SANDBOX_MEMORY_MIB, 2048, 256, 65536),
      pids: intOpt('SANDBOX_PIDS', env.SANDBOX_PIDS, 1024, 64, 100_000),
      cpuShares: intOpt('SANDBOX_CPU_SHARES', env.SANDBOX_CPU_SHARES, 512, 2, 262_144),
      diskGiB: intOpt('SANDBOX_DISK_GIB', env.SANDBOX_DISK_GIB, 8, 1, 1024),
    },
    allowUnlimited: flagOpt('SANDBOX_ALLOW_UNLIMITED', env.SANDBOX_ALLOW_UNLIMITED),
    allowHostAccess: flagOpt('SANDBOX_ALLOW_HOST_ACCESS', env.SANDBOX_ALLOW_HOST_ACCESS),
    ownerId: env.LABLAB_OWNER || 'default',
    hostToken: env.HOST_TOKEN || undefined,
    maxUploadBytes: intOpt('UPLOAD_LIMIT_MB', env.UPLOAD_LIMIT_MB, 100, 1, 100_000) * 1_000_000,
    portHostPattern: portHostPattern(env.PORT_HOST_PATTERN),
    cookieSecretFile: env.COOKIE_SECRET_FILE ? path.resolve(cwd, env.COOKIE_SECRET_FILE) : undefined,
    trustProxy: trustProxyOpt(env.TRUST_PROXY),
    egress: egressOpt(env.SANDBOX_EGRESS, env.SANDBOX_EGRESS_ALLOW),
    runtime: env.SANDBOX_RUNTIME || undefined,
    learnerLimits: {
      sessionsPerLearner: intOpt('MAX_SESSIONS_PER_LEARNER', env.MAX_SESSIONS_PER_LEARNER, 2, 1, 100),
      // Half the capacity: one client cannot fill it. A workshop behind one NAT raises it to MAX_SANDBOXES.
      sessionsPerAddress: intOpt('MAX_SESSIONS_PER_ADDRESS', env.MAX_SESSIONS_PER_ADDRESS, Math.ceil(maxSandboxes / 2), 1, 10_000),
      sessionCreatesPerMinute: intOpt('RATE_SESSIONS_PER_MIN', env.RATE_SESSIONS_PER_MIN, 6, 1, 10_000),
      checkRunsPerMinute: intOpt('RATE_CHECKS_PER_MIN', env.RATE_CHECKS_PER_MIN, 30, 1, 100_000),
      inputBytesPerSecond: intOpt('RATE_INPUT_BYTES_PER_SEC', env.RATE_INPUT_BYTES_PER_SEC, 256 * 1024, 1024, 1 << 30),
      uploadBytesPerMinute: intOpt('RATE_UPLOAD_BYTES_PER_MIN', env.RATE_UPLOAD_BYTES_PER_MIN, 64 * 1024 * 1024, 1024, 1 << 30),
      portRequestsPerMinute: intOpt('RATE_PORT_REQUESTS_PER_MIN', env.RATE_PORT_REQUESTS_PER_MIN, 600, 1, 1_000_000),
    },
    terminalTransport: terminalTransport(env.TERMINAL_TRANSPORT),
    logFormat: logFormat(env.LOG_FORMAT),
    imagesDir: env.IMAGES_DIR ? path.resolve(cwd, env.IMAGES_DIR) : path.join(dataDir, 'images'),
    pullImages: !['0', 'false', 'no', 'off'].includes((env.PULL_IMAGES ?? '').toLowerCase()),
    registryMirror: env.REGISTRY_MIRROR || undefined,
    poolSize: intOpt('pool-size', a['pool-size'] ?? env.POOL_SIZE, 0, 0, 1000),
    poolMemoryReserveMiB: intOpt('POOL_MEMORY_RESERVE_MIB', env.POOL_MEMORY_RESERVE_MIB, 4096, 0, 1_048_576),
    prepareTemplates: env.PREPARE_TEMPLATES !== '0',
    quickWake: !['0', 'false', 'no', 'off'].includes((env.QUICK_WAKE ?? '').toLowerCase()),
    play: {
      // Six at most: node numbers past 6 have no terminal, file or port routes.
      maxNodes: intOpt('PLAY_MAX_NODES', env.PLAY_MAX_NODES, 5, 1, 6),
      images: (env.PLAY_IMAGES ?? 'busybox,debian:bookworm-slim').split(',').map((s) => s.trim()).filter(Boolean),
      // Ready playground nodes kept in the warm pool, within POOL_SIZE: one, so a playground starts at
      // once without a workshop's POOL_SIZE worth of playgrounds idling beside the lab's sandboxes.
      poolSize: intOpt('PLAY_POOL_SIZE', env.PLAY_POOL_SIZE, 1, 0, 1000),
    },
    stacks: {
      allowPrefixes: (env.STACK_URL_ALLOW ?? 'https://').split(',').map((s) => s.trim()).filter(Boolean),
      allowAddresses: (env.STACK_URL_ALLOW_ADDRESSES ?? '').split(',').map((s) => s.trim()).filter(Boolean),
      dir: env.STACKS_DIR ? path.resolve(cwd, env.STACKS_DIR) : undefined,
      maxBytes: intOpt('STACK_MAX_KB', env.STACK_MAX_KB, 256, 1, 10_240) * 1024,
      timeoutMs: durationOpt('STACK_TIMEOUT', env.STACK_TIMEOUT, 10_000),
      maxRedirects: intOpt('STACK_MAX_REDIRECTS', env.STACK_MAX_REDIRECTS, 3, 0, 10),
    },
  };
}

function labsReposOpt(raw: string | undefined): LabsRepo[] {
  try {
    return parseLabsRepos(raw);
  } catch (err) {
    if (err instanceof LabsRepoError) throw new ConfigError(err.message);
    throw err;
  }
}

function labsHookSecretOpt(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  if (raw.length < 16) throw new ConfigError('LABS_HOOK_SECRET must be at least 16 characters (anyone who guesses it can make the server fetch)');
  return raw;
}

function databaseUrl(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  if (!/^postgres(ql)?:\/\//.test(raw)) throw new ConfigError('DATABASE_URL must be a postgres:// URL (leave it unset for the embedded SQLite file).');
  return raw;
}

function terminalTransport(raw: string | undefined): 'auto' | 'local' | 'pty' | 'exec' {
  const v = (raw ?? '').trim().toLowerCase() || 'auto';
  if (v !== 'auto' && v !== 'local' && v !== 'pty' && v !== 'exec') throw new ConfigError(`TERMINAL_TRANSPORT must be auto, local, pty or exec, got "${raw}"`);
  return v;
}

function logFormat(raw: string | undefined): 'human' | 'json' {
  const v = (raw ?? '').trim().toLowerCase() || 'human';
  if (v !== 'human' && v !== 'json') throw new ConfigError(`LOG_FORMAT must be human or json, got "${raw}"`);
  return v;
}

function portHostPattern(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  const p = raw.trim().toLowerCase();
  if (!p.includes('{port}') || !p.includes('{node}') || !p.includes('{lab}') || !/^[a-z0-9{}.:-]+$/.test(p)) {
    throw new ConfigError(`PORT_HOST_PATTERN must be a host name with {port}, {node} and {lab} in it, e.g. p{port}-{node}-{lab}.labs.example.org, got "${raw}"`);
  }
  return p;
}
