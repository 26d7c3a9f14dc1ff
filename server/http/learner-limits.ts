// Per-learner and per-address limits. A new cookie is free, so caps and rates that matter are also
// kept per client address: one client cannot fill MAX_SANDBOXES by clearing its cookies, nor turn
// `checks:run` into a loop of execs on the host engine. Where the counters live:
// - REDIS_URL set (replicas): Redis (rate-limiter-flexible's RateLimiterRedis), shared by every replica;
// - else DATABASE_URL: PostgreSQL (RateLimiterPostgres), shared likewise;
// - else the server's SQLite file (RateLimiterSQLite), so they hold across restarts.
// The live-session caps count the sessions the caller lists (with replicas: the shared store's), and
// which address started each session is kept in the same shared place. Keystrokes use a memory
// limiter, because a database write per keystroke would slow the terminal, and typing is bounded
// per connection anyway.
import Database from 'better-sqlite3';
import type { IncomingMessage } from 'node:http';
import pg from 'pg';
import { createClient } from 'redis';
import {
  RateLimiterMemory, RateLimiterPostgres, RateLimiterRedis, RateLimiterRes, RateLimiterSQLite, type RateLimiterAbstract,
} from 'rate-limiter-flexible';
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
  dispose(): Promise<void>;
}

export interface LearnerLimitsDeps {
  config: LearnerLimitsConfig;
  /** The SQLite file the counters share (the server's database); omitted = memory only (tests). */
  dbFile?: string;
  /** Counters shared by replicas: Redis first, else PostgreSQL; both override dbFile. */
  shared?: { redisUrl?: string; databaseUrl?: string };
  /** Live sessions the caps count: with replicas, every replica's (the shared store's). */
  liveSessions(): LiveSessionInfo[] | Promise<LiveSessionInfo[]>;
  log?(msg: string, err?: unknown): void;
}

/** Which address started each session, for the per-address cap; shared when the counters are. */
interface AddressBook {
  set(sessionId: string, address: string): Promise<void>;
  /** Addresses of these sessions, in order (undefined: not known). */
  get(sessionIds: string[]): Promise<(string | undefined)[]>;
  dispose(): Promise<void>;
}

/** Shared entries outlive any session (SESSION_MAX is 8 h by default) and then go by themselves. */
const ADDRESS_TTL_S = 24 * 3600;
/** PostgreSQL's unique_violation: a concurrent CREATE TABLE by another replica. */
const UNIQUE_VIOLATION = '23505';
const DUPLICATE_TABLE = '42P07';
const DUPLICATE_OBJECT = '42710';

/** A limiter of the chosen store, and the address book beside it. */
interface LimitStore {
  limiter(keyPrefix: string, points: number, duration: number): RateLimiterAbstract;
  addresses: AddressBook;
  /** Resolves once the store is usable (a connection made, a table created). */
  ready: Promise<void>;
}

/**
 * rate-limiter-flexible creates its table asynchronously: the first limiter of a store makes it, the
 * later ones are told it exists, and the store's `ready` waits for it.
 */
function tableOnce(store: () => LimitStore) {
  let made = false;
  return (make: (tableCreated: boolean, cb?: (err?: unknown) => void) => RateLimiterAbstract): RateLimiterAbstract => {
    if (made) return make(true);
    made = true;
    let l!: RateLimiterAbstract;
    const table = new Promise<void>((resolve, reject) => {
      l = make(false, (err) => (err ? reject(err) : resolve()));
    });
    const s = store();
    s.ready = Promise.all([s.ready, table]).then(() => {});
    return l;
  };
}

function memoryAddressBook(): AddressBook {
  const byId = new Map<string, string>();
  return {
    set: async (id, address) => void byId.set(id, address),
    async get(ids) {
      // Asked with every live session: forget the ended ones, so the map stays as small as the live set.
      const live = new Set(ids);
      for (const known of byId.keys()) if (!live.has(known)) byId.delete(known);
      return ids.map((id) => byId.get(id));
    },
    dispose: async () => {},
  };
}

function redisStore(url: string, log: NonNullable<LearnerLimitsDeps['log']>): LimitStore {
  const client = createClient({ url });
  // node-redis reconnects by itself; an 'error' with no listener would end the process instead.
  client.on('error', (err) => log('learner limits: redis connection error (reconnecting)', err));
  const ready = client.connect().then(() => {});
  const key = (id: string) => `lablab:session-address:${id}`;
  return {
    ready,
    limiter: (keyPrefix, points, duration) => new RateLimiterRedis({ storeClient: client, useRedisPackage: true, keyPrefix: `lablab:${keyPrefix}`, points, duration }),
    addresses: {
      async set(id, address) {
        await client.set(key(id), address, { EX: ADDRESS_TTL_S });
      },
      get: async (ids) => (ids.length ? (await client.mGet(ids.map(key))).map((v) => v ?? undefined) : []),
      async dispose() {
        await client.quit().catch(() => {});
      },
    },
  };
}

function postgresStore(url: string): LimitStore {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => {}); // a dropped idle connection: the pool opens another; queries report outages
  const once = tableOnce(() => store);
  const store: LimitStore = {
    ready: pool.query(`CREATE TABLE IF NOT EXISTS session_addresses (session_id TEXT PRIMARY KEY, address TEXT NOT NULL, at BIGINT NOT NULL)`)
      .catch((err: { code?: string }) => {
        // Another replica created it at the same moment: PostgreSQL reports that as any of these.
        if (![UNIQUE_VIOLATION, DUPLICATE_TABLE, DUPLICATE_OBJECT].includes(err.code ?? '')) throw err;
      })
      .then(() => {}),
    // One table for every limiter (keys carry their prefix).
    limiter: (keyPrefix, points, duration) => once((tableCreated, cb) =>
      new RateLimiterPostgres({ storeClient: pool, storeType: 'pool', tableName: 'rate_limits', keyPrefix, points, duration, clearExpiredByTimeout: false, tableCreated }, cb)),
    addresses: {
      async set(id, address) {
        const now = Date.now();
        await pool.query(`INSERT INTO session_addresses (session_id, address, at) VALUES ($1, $2, $3)
          ON CONFLICT (session_id) DO UPDATE SET address = excluded.address, at = excluded.at`, [id, address, now]);
        await pool.query('DELETE FROM session_addresses WHERE at < $1', [now - ADDRESS_TTL_S * 1000]);
      },
      async get(ids) {
        const rows = (await pool.query<{ session_id: string; address: string }>('SELECT session_id, address FROM session_addresses WHERE session_id = ANY($1)', [ids])).rows;
        const byId = new Map(rows.map((r) => [r.session_id, r.address]));
        return ids.map((id) => byId.get(id));
      },
      dispose: () => pool.end(),
    },
  };
  return store;
}

function sqliteOrMemoryStore(file: string | undefined): LimitStore {
  const db = file ? new Database(file) : undefined;
  db?.pragma('journal_mode = WAL');
  db?.pragma('busy_timeout = 2000');
  const addresses = memoryAddressBook();
  const once = tableOnce(() => store);
  const store: LimitStore = {
    ready: Promise.resolve(),
    limiter: (keyPrefix, points, duration) => (db
      ? once((tableCreated, cb) => new RateLimiterSQLite({ storeClient: db, storeType: 'better-sqlite3', tableName: 'rate_limits', keyPrefix, points, duration, clearExpiredByTimeout: false, tableCreated }, cb))
      : new RateLimiterMemory({ keyPrefix, points, duration })),
    addresses: { ...addresses, dispose: async () => void db?.close() },
  };
  return store;
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
  const log = deps.log ?? (() => {});
  const store = deps.shared?.redisUrl ? redisStore(deps.shared.redisUrl, log)
    : deps.shared?.databaseUrl ? postgresStore(deps.shared.databaseUrl)
    : sqliteOrMemoryStore(deps.dbFile);
  const limiter = (keyPrefix: string, points: number, duration: number) => store.limiter(keyPrefix, points, duration);
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
  const ready = store.ready;
  ready.catch(() => {}); // reported by the first consume that awaits it

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
      const live = await deps.liveSessions();
      const mine = live.filter((s) => s.learnerId === learnerId).length;
      if (mine >= c.sessionsPerLearner) {
        throw new AppError('rate_limited', `You already have ${mine} labs open, the most one learner may have at once. End one (End session) or wait for it to expire, then open this lab again.`);
      }
      await ready;
      const fromHere = (await store.addresses.get(live.map((s) => s.id))).filter((a) => a === address).length;
      if (fromHere >= c.sessionsPerAddress && !opts?.inEvent) {
        throw new AppError('rate_limited', `Your network already has ${fromHere} labs open, the most one address may have at once. End a session you no longer use, or ask the workshop host to raise MAX_SESSIONS_PER_ADDRESS.`);
      }
      await consume(creates, learnerId, 'You started labs too quickly.');
      // A room arriving through an event link all at once shares one address: the event stands in.
      if (!opts?.inEvent) await consume(createsByAddress, address, 'Your network started labs too quickly.');
    },
    sessionStarted(sessionId, address) {
      // Not awaited by the caller; a lost entry only lets this one session escape the per-address cap.
      void ready.then(() => store.addresses.set(sessionId, address)).catch((err) => log('learner limits: could not record a session\'s address', err));
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
    dispose: () => store.addresses.dispose(),
  };
}
