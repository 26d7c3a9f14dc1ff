// Per-learner and per-address limits. A new cookie is free, so caps and rates that matter are also
// kept per client address: one client cannot fill MAX_SANDBOXES by clearing its cookies, nor turn
// `checks:run` into a loop of execs on the host engine. Counters live in the server's SQLite file
// (rate-limiter-flexible's RateLimiterSQLite), so they hold across restarts and across replicas that
// share that file; keystrokes use a memory limiter, because a database write per keystroke would
// slow the terminal, and typing is bounded per connection anyway.
import Database from 'better-sqlite3';
import type { IncomingMessage } from 'node:http';
import { RateLimiterMemory, RateLimiterRes, RateLimiterSQLite, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { LearnerLimitsConfig } from '../config.ts';
import { AppError } from '../errors.ts';

export interface LiveSessionInfo {
  id: string;
  learnerId: string;
}

export interface LearnerLimits {
  /** Before a session would be created: throws a clear AppError when a cap or the creation rate is hit. */
  /**
   * Refuses a new session over the per-learner or per-address cap or rate. `inEvent`: the learner
   * joined a running workshop event by its link; a room behind one NAT shares an address, and the
   * event's own capacity stands in for the per-address cap and creation rate.
   */
  admitSession(learnerId: string, address: string, opts?: { inEvent?: boolean }): Promise<void>;
  /** Remembers which address a new session came from (for the per-address cap). */
  sessionStarted(sessionId: string, address: string): void;
  checkRun(learnerId: string, address: string): Promise<void>;
  /** False when this input must be dropped (the caller tells the learner). */
  input(learnerId: string, bytes: number): Promise<boolean>;
  upload(learnerId: string, bytes: number): Promise<void>;
  portRequest(learnerId: string, address: string): Promise<void>;
  dispose(): void;
}

export interface LearnerLimitsDeps {
  config: LearnerLimitsConfig;
  /** The SQLite file the counters share (the server's database); omitted = memory only (tests). */
  dbFile?: string;
  liveSessions(): LiveSessionInfo[];
}

/**
 * The client address express would give as req.ip: the peer, or, while the peer is a trusted proxy,
 * the next address back in X-Forwarded-For (so a workshop behind a proxy is not one address).
 */
export function clientAddress(req: IncomingMessage, trust: (addr: string, i: number) => boolean): string {
  const chain = [req.socket.remoteAddress ?? ''];
  const fwd = req.headers['x-forwarded-for'];
  if (typeof fwd === 'string') chain.push(...fwd.split(',').map((s) => s.trim()).filter(Boolean).reverse());
  let i = 0;
  while (i < chain.length - 1 && trust(chain[i]!, i)) i++;
  return chain[i]!;
}

function after(res: unknown): string {
  const ms = res instanceof RateLimiterRes ? res.msBeforeNext : 60_000;
  const s = Math.max(1, Math.ceil(ms / 1000));
  return s >= 90 ? `${Math.ceil(s / 60)} minutes` : `${s} s`;
}

export function createLearnerLimits(deps: LearnerLimitsDeps): LearnerLimits {
  const c = deps.config;
  const db = deps.dbFile ? new Database(deps.dbFile) : undefined;
  db?.pragma('journal_mode = WAL');
  db?.pragma('busy_timeout = 2000');
  // The library creates its table asynchronously; the first limiter makes it, the others wait for it.
  let ready: Promise<void> = Promise.resolve();
  let tableMade = false;
  const limiter = (keyPrefix: string, points: number, duration: number): RateLimiterAbstract => {
    if (!db) return new RateLimiterMemory({ keyPrefix, points, duration });
    const opts = { storeClient: db, storeType: 'better-sqlite3', tableName: 'rate_limits', keyPrefix, points, duration, clearExpiredByTimeout: false };
    if (tableMade) return new RateLimiterSQLite({ ...opts, tableCreated: true });
    tableMade = true;
    let l!: RateLimiterAbstract;
    ready = new Promise<void>((resolve, reject) => {
      l = new RateLimiterSQLite(opts, (err?: unknown) => (err ? reject(err) : resolve()));
    });
    ready.catch(() => {}); // reported by the first consume that awaits it
    return l;
  };
  const creates = limiter('create', c.sessionCreatesPerMinute, 60);
  // Per address a little looser than per learner: a classroom may sit behind one NAT.
  const createsByAddress = limiter('create-addr', c.sessionCreatesPerMinute * 5, 60);
  const checks = limiter('checks', c.checkRunsPerMinute, 60);
  const checksByAddress = limiter('checks-addr', c.checkRunsPerMinute * 5, 60);
  const uploads = limiter('upload', c.uploadBytesPerMinute, 60);
  const ports = limiter('port', c.portRequestsPerMinute, 60);
  const portsByAddress = limiter('port-addr', c.portRequestsPerMinute * 5, 60);
  // A 10 s window lets a 1 MiB paste through at once while capping a sustained flood.
  const input = new RateLimiterMemory({ keyPrefix: 'input', points: c.inputBytesPerSecond * 10, duration: 10 });
  const addressOf = new Map<string, string>();

  const consume = async (l: RateLimiterAbstract, key: string, what: string, points = 1) => {
    await ready;
    try {
      await l.consume(key, points);
    } catch (res) {
      if (res instanceof Error) throw res; // a store failure, not a refusal
      throw new AppError('rate_limited', `${what} Try again in ${after(res)}.`);
    }
  };

  return {
    async admitSession(learnerId, address, opts) {
      const live = deps.liveSessions();
      const ids = new Set(live.map((s) => s.id));
      for (const id of addressOf.keys()) if (!ids.has(id)) addressOf.delete(id);
      const mine = live.filter((s) => s.learnerId === learnerId).length;
      if (mine >= c.sessionsPerLearner) {
        throw new AppError('rate_limited', `You already have ${mine} labs open, the most one learner may have at once. End one (End session) or wait for it to expire, then open this lab again.`);
      }
      const fromHere = live.filter((s) => addressOf.get(s.id) === address).length;
      if (fromHere >= c.sessionsPerAddress && !opts?.inEvent) {
        throw new AppError('rate_limited', `Your network already has ${fromHere} labs open, the most one address may have at once. End a session you no longer use, or ask the workshop host to raise MAX_SESSIONS_PER_ADDRESS.`);
      }
      await consume(creates, learnerId, 'You started labs too quickly.');
      // A room arriving through an event link all at once shares one address: the event stands in.
      if (!opts?.inEvent) await consume(createsByAddress, address, 'Your network started labs too quickly.');
    },
    sessionStarted(sessionId, address) {
      addressOf.set(sessionId, address);
    },
    async checkRun(learnerId, address) {
      await consume(checks, learnerId, `That is more than ${c.checkRunsPerMinute} checks in a minute; the checks also run by themselves after each step.`);
      await consume(checksByAddress, address, 'Your network ran too many checks in a minute.');
    },
    async input(learnerId, bytes) {
      try {
        await input.consume(learnerId, Math.max(1, bytes));
        return true;
      } catch {
        return false;
      }
    },
    async upload(learnerId, bytes) {
      await consume(uploads, learnerId, 'You uploaded too much in the last minute.', Math.max(1, bytes));
    },
    async portRequest(learnerId, address) {
      await consume(ports, learnerId, 'Too many requests to your lab\'s port in a minute.');
      await consume(portsByAddress, address, 'Too many requests to lab ports from your network in a minute.');
    },
    dispose() {
      db?.close();
    },
  };
}
