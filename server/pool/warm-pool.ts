// The warm pool: ready sandboxes made ahead per image set, so an arriving learner takes one instead
// of waiting for a create. Each unit is one sandbox (engine ready, shell started, hostname node1)
// on its own pre-made private network, under a synthetic session id ("pool-…"). A lab with N nodes
// takes N units; take.ts then joins them on the first one's network under their node names and
// copies the lab's files in. A small stock of pre-made session networks serves cold creates too,
// because the engine makes networks one at a time.
import crypto from 'node:crypto';
import type { SandboxDriver, SandboxLimits, SandboxRef } from '../../sandbox/driver/types.ts';
import { effectiveTarget, planPool, poolKey, splitByEngine, type PoolKeySpec } from './plan.ts';
import { every, type Timers } from '../timers.ts';

export interface PoolUnit {
  /** The synthetic session id its sandbox and network are labelled with. */
  sid: string;
  key: string;
  ref: SandboxRef;
  /** Its own private network (name). */
  network: string;
  createdAt: number;
}

export interface PoolStats {
  /** Ready sandboxes waiting for a learner. */
  idleSandboxes: number;
  /** Sandboxes being made for the pool. */
  fillingSandboxes: number;
  /** Wanted idle sandboxes over all keys right now. */
  targetSandboxes: number;
  /** Pre-made session networks in stock. */
  networks: number;
}

export interface WarmPool {
  /** The image sets of the listed labs, and how many ready sandboxes to keep for each. */
  configure(keys: PoolKeySpec[], perKey: number): void;
  /** An event pre-warms: room for `learners` learners of this lab shape from `from` until `until` (epoch ms). */
  boost(id: string, spec: PoolKeySpec, learners: number, from: number, until: number): void;
  /** `spec.terms` ready units with these images, removed from the pool (it refills behind), or undefined when fewer are ready. */
  take(spec: PoolKeySpec): PoolUnit[] | undefined;
  /** A pre-made session network: its synthetic session id and name, or undefined. */
  takeNetwork(): { sid: string; name: string } | undefined;
  /** Whether this synthetic session id is the pool's (idle, filling or in stock): the reaper keeps it. */
  holds(sid: string): boolean;
  stats(): PoolStats;
  /** Capacity or demand changed: re-plan now rather than at the next tick. */
  kick(): void;
  /** Stops filling and removes what is idle (units, networks). */
  dispose(): Promise<void>;
}

export interface WarmPoolDeps {
  driver: SandboxDriver;
  limits: SandboxLimits;
  /** Longest a session lives: a taken unit must outlive it, so its expiry label allows for that. */
  sessionMaxMs: number;
  /** An idle unit older than this is replaced (its expiry label would run short for a learner). */
  idleMaxMs: number;
  /** Sandboxes held by learners and wanted by queued learners, and MAX_SANDBOXES. */
  capacity(): { inUse: number; queued: number; max: number };
  /** MiB the host can still give (MemAvailable minus a reserve for running learners). */
  memoryHeadroomMiB(): number;
  idleSandboxMiB: number;
  /** Unit creates in flight at once. */
  maxInFlight: number;
  /** Pre-made session networks kept for cold creates. */
  networkStock: number;
  tickMs: number;
  /** Refills wait until no unit was taken for this long: during a rush, creates would slow the takes. */
  refillQuietMs: number;
  /** The clock and the timers of the planning tick and the quiet wait. */
  timers: Timers;
  log(msg: string, err?: unknown): void;
  /** A unit became ready, `ms` after its create began. */
  onUnitReady?(ms: number): void;
  /** Whether an engine (a ref's `engine`) takes new sessions: not drained, not lost. Default: all do. */
  engineOpen?(engine: string): boolean;
}

const inc = (m: Map<string, number>, k: string, by: number) => {
  const v = (m.get(k) ?? 0) + by;
  if (v) m.set(k, v);
  else m.delete(k);
};

export function createWarmPool(deps: WarmPoolDeps): WarmPool {
  const { driver, log } = deps;
  const specs = new Map<string, string[]>();
  const base = new Map<string, number>();
  const boosts = new Map<string, { key: string; count: number; from: number; until: number }>();
  const idle = new Map<string, PoolUnit[]>();
  const filling = new Map<string, number>();
  const fillingSids = new Set<string>();
  const inFlight = new Set<Promise<void>>();
  const networks: { sid: string; name: string }[] = [];
  let networkFilling: string | undefined;
  /** A key whose create failed waits this long before the next try, so a broken image set cannot spin. */
  const backoffUntil = new Map<string, number>();
  let disposed = false;
  let planning = false;
  let lastTake = -Infinity;
  const { timers } = deps;
  let quietTimer: unknown;
  const stopTick = every(timers, deps.tickMs, () => plan());

  const unitSize = (_k: string) => 1;

  function targets(): Map<string, number> {
    const now = timers.now();
    const t = new Map<string, number>();
    for (const k of specs.keys()) {
      if ((backoffUntil.get(k) ?? 0) > now) continue;
      const b = [...boosts.values()].filter((x) => x.key === k);
      const n = effectiveTarget(base.get(k) ?? 0, b, now);
      if (n > 0) t.set(k, n);
    }
    return t;
  }

  function idleCounts(): Map<string, number> {
    const m = new Map<string, number>();
    for (const [k, units] of idle) if (units.length) m.set(k, units.length);
    return m;
  }

  function plan(): void {
    if (disposed || planning) return;
    planning = true;
    try {
      recycleOld();
      dropClosed();
      const cap = deps.capacity();
      const p = planPool({
        targets: targets(),
        unitSize: new Map([...specs.keys()].map((k) => [k, unitSize(k)])),
        idle: idleCounts(),
        filling,
        inUse: cap.inUse,
        queued: cap.queued,
        max: cap.max,
        memoryHeadroomMiB: deps.memoryHeadroomMiB(),
        idleSandboxMiB: deps.idleSandboxMiB,
        maxInFlight: deps.maxInFlight,
      });
      if (p.evictSandboxes > 0) evict(p.evictSandboxes);
      const quietIn = lastTake + deps.refillQuietMs - timers.now();
      if (quietIn > 0 && p.create.length) {
        timers.clearTimeout(quietTimer);
        quietTimer = timers.setTimeout(plan, quietIn);
      } else for (const k of p.create) startUnit(k);
      fillNetworks();
    } finally {
      planning = false;
    }
  }

  function recycleOld(): void {
    const now = timers.now();
    for (const units of idle.values()) {
      for (const u of [...units]) {
        if (now - u.createdAt < deps.idleMaxMs) continue;
        units.splice(units.indexOf(u), 1);
        void destroyUnit(u, 'too old to hand out');
      }
    }
  }

  /**
   * Units on engines drained or lost since they were made go: the drained engine gets its room back,
   * and with them out of the count the plan refills on open engines (where the scheduler places creates).
   */
  function dropClosed(key?: string): void {
    if (!deps.engineOpen) return;
    for (const [k, units] of idle) {
      if (key !== undefined && k !== key) continue;
      const { open, closed } = splitByEngine(units, deps.engineOpen);
      if (!closed.length) continue;
      idle.set(k, open);
      for (const u of closed) void destroyUnit(u, `its engine ${u.ref.engine} is drained or lost`);
    }
  }

  /** Oldest first: they have the least time left on their expiry labels. */
  function evict(sandboxes: number): void {
    const all = [...idle.values()].flat().sort((a, b) => a.createdAt - b.createdAt);
    let freed = 0;
    for (const u of all) {
      if (freed >= sandboxes) break;
      const list = idle.get(u.key)!;
      list.splice(list.indexOf(u), 1);
      freed += 1;
      void destroyUnit(u, 'learners need the room');
    }
  }

  function startUnit(key: string): void {
    const images = specs.get(key)!;
    const sid = `pool-${crypto.randomBytes(6).toString('base64url')}`;
    inc(filling, key, 1);
    fillingSids.add(sid);
    const t0 = timers.now();
    const p = (async () => {
      let ref: SandboxRef | undefined;
      let network = '';
      try {
        network = await driver.createSessionNetwork(sid);
        const expiresAt = t0 + deps.sessionMaxMs + deps.idleMaxMs;
        // In the background: the unit's start and its idle time yield the CPU to learners (adoptUnits raises it).
        ref = await driver.create({ sessionId: sid, node: 1, images, network, limits: deps.limits, expiresAt, background: true });
        await driver.waitReady(ref, { images, timeoutMs: 120_000 });
        // The shell is started by the sandbox's init; make sure, so the first attach finds it.
        await driver.ensureShell(ref);
        const unit: PoolUnit = { sid, key, ref, network, createdAt: t0 };
        deps.onUnitReady?.(timers.now() - t0);
        if (disposed) {
          await destroyUnit(unit, 'the pool is closing');
          return;
        }
        const list = idle.get(key) ?? [];
        list.push(unit);
        idle.set(key, list);
      } catch (err) {
        log(`pool: a unit for ${key} failed; trying again in 30 s`, err);
        backoffUntil.set(key, timers.now() + 30_000);
        await destroyUnit({ sid, key, ref: ref!, network, createdAt: t0 }, 'its create failed');
      } finally {
        inc(filling, key, -1);
        fillingSids.delete(sid);
      }
    })();
    inFlight.add(p);
    void p.finally(() => {
      inFlight.delete(p);
      plan();
    });
  }

  function fillNetworks(): void {
    if (disposed || networkFilling || networks.length >= deps.networkStock) return;
    const sid = `net-${crypto.randomBytes(6).toString('base64url')}`;
    networkFilling = sid;
    const p = driver
      .createSessionNetwork(sid)
      .then((name) => {
        if (disposed) return driver.removeSessionNetwork(sid);
        networks.push({ sid, name });
      })
      .catch((err) => log('pool: could not pre-make a session network', err))
      .finally(() => {
        networkFilling = undefined;
        inFlight.delete(p);
        if (!disposed && networks.length < deps.networkStock) timers.setTimeout(fillNetworks, 0);
      });
    inFlight.add(p);
  }

  async function destroyUnit(u: PoolUnit, why: string): Promise<void> {
    if (u.ref) {
      log(`pool: removing unit ${u.sid} (${why})`);
      await driver.destroy(u.ref).catch((err) => log(`pool: destroy failed for ${u.sid} (the reaper will retry)`, err));
    }
    await driver.removeSessionNetwork(u.sid).catch((err) => log(`pool: network of ${u.sid} not removed (the reaper will retry)`, err));
  }

  return {
    configure(keys, perKey) {
      // Shapes sharing an image set share units: the larger wish wins.
      const wants = new Map<string, number>();
      for (const spec of keys) {
        const k = poolKey(spec);
        specs.set(k, [...spec.images]);
        wants.set(k, Math.max(wants.get(k) ?? 0, Math.min(perKey, spec.most ?? perKey)));
      }
      for (const [k, n] of wants) base.set(k, n);
      queueMicrotask(plan);
    },
    boost(id, spec, learners, from, until) {
      const key = poolKey(spec);
      if (!specs.has(key)) specs.set(key, [...spec.images]);
      boosts.set(id, { key, count: learners * Math.max(1, spec.terms), from, until });
      queueMicrotask(plan);
    },
    take(spec) {
      // Checked at the take too, not only at the tick: an engine may have been drained a moment ago.
      dropClosed(poolKey(spec));
      const list = idle.get(poolKey(spec));
      const n = Math.max(1, spec.terms);
      if (!list || list.length < n) return undefined;
      lastTake = timers.now();
      queueMicrotask(plan);
      return list.splice(0, n);
    },
    takeNetwork() {
      const n = networks.shift();
      if (n) queueMicrotask(fillNetworks);
      return n;
    },
    holds(sid) {
      if (fillingSids.has(sid) || networkFilling === sid || networks.some((n) => n.sid === sid)) return true;
      for (const units of idle.values()) if (units.some((u) => u.sid === sid)) return true;
      return false;
    },
    stats() {
      let idleSandboxes = 0;
      for (const units of idle.values()) idleSandboxes += units.length;
      let fillingSandboxes = 0;
      for (const [k, n] of filling) fillingSandboxes += n * unitSize(k);
      let targetSandboxes = 0;
      for (const [k, n] of targets()) targetSandboxes += n * unitSize(k);
      return { idleSandboxes, fillingSandboxes, targetSandboxes, networks: networks.length };
    },
    kick: () => queueMicrotask(plan),
    async dispose() {
      disposed = true;
      stopTick();
      timers.clearTimeout(quietTimer);
      const units = [...idle.values()].flat();
      idle.clear();
      const nets = networks.splice(0);
      await Promise.allSettled([
        ...units.map((u) => destroyUnit(u, 'the server is stopping')),
        ...nets.map((n) => driver.removeSessionNetwork(n.sid)),
        ...inFlight,
      ]);
    },
  };
}

/** MemAvailable from /proc/meminfo, in MiB (Infinity where there is no such file). */
export function readMemAvailableMiB(read: () => string): number {
  try {
    const m = /MemAvailable:\s+(\d+) kB/.exec(read());
    return m ? Number(m[1]) / 1024 : Infinity;
  } catch {
    return Infinity; // not Linux: memory is then not what limits the pool
  }
}
