// Pure: argv + env in, a validated Config out. main.ts is the only caller that passes real process values.
import crypto from 'node:crypto';
import path from 'node:path';

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
  /** Pause the pty when this many chars are sent but not acknowledged by the browser (VS Code uses 100k). */
  flowHighWatermark: 100_000,
  /** Resume below this; the browser acks every `flowAckEvery` chars, which must not exceed it. */
  flowLowWatermark: 5_000,
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
  dataDir: string;
  dbFile: string;
  /** Secret used to sign the learner cookie; generated and stored in dataDir when not given. */
  cookieSecret?: string;
  /** Allowed Origin values for websocket upgrades; empty = same host as the request. */
  allowedOrigins: string[];
  sessionTtlMs: number;
  /** How much a click on "extend" adds (capped at sessionMaxMs from creation). */
  sessionExtendMs: number;
  sessionMaxMs: number;
  maxSandboxes: number;
  sandboxImage?: string;
  limits: { memoryMiB: number; pids: number; cpuShares: number; diskGiB: number };
  /** A short id that marks this server's sandboxes (label), so two servers on one engine don't reap each other. */
  ownerId: string;
  /** Shown on the workshop host page; empty = page disabled. */
  hostToken?: string;
  /** Ready sandboxes kept per image set of the listed labs (0 = no warm pool). */
  poolSize: number;
  /** Memory (MiB) the pool always leaves free for running learners. */
  poolMemoryReserveMiB: number;
  /** Build the listed labs' templates at start rather than at the first learner. */
  prepareTemplates: boolean;
}

export class ConfigError extends Error {}

function intOpt(name: string, raw: string | undefined, def: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  return n;
}

function durationOpt(name: string, raw: string | undefined, defMs: number): number {
  if (raw === undefined || raw === '') return defMs;
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(raw.trim());
  if (!m) throw new ConfigError(`${name} must be a duration like 90s, 30m or 4h, got "${raw}"`);
  const unit = m[2] ?? 'm';
  const mult = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000;
  return Math.round(Number(m[1]) * mult);
}

/** Parses `--name value` / `--name=value` flags. Unknown flags are an error, so typos don't pass silently. */
export function parseArgs(argv: string[], known: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new ConfigError(`unexpected argument "${a}"`);
    const eq = a.indexOf('=');
    const name = a.slice(2, eq === -1 ? undefined : eq);
    if (!known.includes(name)) throw new ConfigError(`unknown option --${name} (known: ${known.map((k) => '--' + k).join(', ')})`);
    const value = eq === -1 ? argv[++i] : a.slice(eq + 1);
    if (value === undefined) throw new ConfigError(`--${name} needs a value`);
    out[name] = value;
  }
  return out;
}

const FLAGS = ['port', 'host', 'labs', 'data', 'max-sandboxes', 'session-ttl', 'pool-size'] as const;

export function loadConfig(argv: string[], env: Record<string, string | undefined>, cwd: string): Config {
  const a = parseArgs(argv, FLAGS);
  const given = a['data'] ?? env.DATA_DIR;
  const dataDir = given ? path.resolve(cwd, given) : defaultDataDir(cwd);
  return {
    port: intOpt('port', a['port'] ?? env.PORT, 8080, 0, 65535),
    host: a['host'] ?? env.HOST ?? '0.0.0.0',
    labsDir: path.resolve(cwd, a['labs'] ?? env.LABS_DIR ?? 'labs'),
    dataDir,
    dbFile: env.DB_FILE ? path.resolve(cwd, env.DB_FILE) : path.join(dataDir, 'lablab.sqlite'),
    cookieSecret: env.COOKIE_SECRET || undefined,
    allowedOrigins: (env.ALLOWED_ORIGINS ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    sessionTtlMs: durationOpt('session-ttl', a['session-ttl'] ?? env.SESSION_TTL, 4 * 3_600_000),
    sessionExtendMs: durationOpt('SESSION_EXTEND', env.SESSION_EXTEND, 30 * 60_000),
    sessionMaxMs: durationOpt('SESSION_MAX', env.SESSION_MAX, 8 * 3_600_000),
    maxSandboxes: intOpt('max-sandboxes', a['max-sandboxes'] ?? env.MAX_SANDBOXES, 50, 1, 10_000),
    sandboxImage: env.SANDBOX_IMAGE || undefined,
    limits: {
      memoryMiB: intOpt('SANDBOX_MEMORY_MIB', env.SANDBOX_MEMORY_MIB, 2048, 256, 65536),
      pids: intOpt('SANDBOX_PIDS', env.SANDBOX_PIDS, 1024, 64, 100_000),
      cpuShares: intOpt('SANDBOX_CPU_SHARES', env.SANDBOX_CPU_SHARES, 512, 2, 262_144),
      diskGiB: intOpt('SANDBOX_DISK_GIB', env.SANDBOX_DISK_GIB, 8, 1, 1024),
    },
    ownerId: env.LABLAB_OWNER || 'default',
    hostToken: env.HOST_TOKEN || undefined,
    poolSize: intOpt('pool-size', a['pool-size'] ?? env.POOL_SIZE, 0, 0, 1000),
    poolMemoryReserveMiB: intOpt('POOL_MEMORY_RESERVE_MIB', env.POOL_MEMORY_RESERVE_MIB, 4096, 0, 1_048_576),
    prepareTemplates: env.PREPARE_TEMPLATES !== '0',
  };
}
