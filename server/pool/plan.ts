// Pure rules of the warm pool: how many ready sandboxes to keep per key, and which idle ones to
// give back when learners need the room. No I/O: the pool feeds it numbers and acts on the answer.

/** What a lab needs from the pool: sandboxes preloaded with an image set, one per node. */
export interface PoolKeySpec {
  images: string[];
  terms: number;
  /** At most this many ready units of this shape (the playground's PLAY_POOL_SIZE), whatever POOL_SIZE says. */
  most?: number;
}

/** Pooled sandboxes are kept per image set: any lab with those images can take them, whatever its node count. */
export function poolKey(spec: { images: string[] }): string {
  return [...new Set(spec.images)].sort().join(',');
}

export interface PoolState {
  /** Wanted idle units per key (configured size, raised by events that pre-warm). */
  targets: Map<string, number>;
  /** Sandboxes per unit of each key (the lab's `terms`). */
  unitSize: Map<string, number>;
  /** Idle, ready units per key. */
  idle: Map<string, number>;
  /** Units being created per key. */
  filling: Map<string, number>;
  /** Sandboxes held by learners (starting or ready sessions). */
  inUse: number;
  /** Sandboxes that queued learners are waiting for. */
  queued: number;
  /** MAX_SANDBOXES. */
  max: number;
  /** What the host can still give, in MiB (MemAvailable minus a reserve for running learners). */
  memoryHeadroomMiB: number;
  /** What one idle sandbox costs, in MiB. */
  idleSandboxMiB: number;
  /** Creates allowed in flight at once (the engine serialises much of a create). */
  maxInFlight: number;
}

export interface PoolPlan {
  /** Keys to start one more unit for, in order. */
  create: string[];
  /** How many idle sandboxes must be given back so learners are not starved of capacity. */
  evictSandboxes: number;
}

const sum = (m: Map<string, number>, size: (k: string) => number) => [...m].reduce((n, [k, v]) => n + v * size(k), 0);

/**
 * Learners first: pooled sandboxes only use room that neither running nor queued learners need, and
 * only while the host has memory to spare. Within that room, the key furthest below its target is
 * filled first, so one big event does not starve the other image sets.
 */
export function planPool(s: PoolState): PoolPlan {
  const size = (k: string) => s.unitSize.get(k) ?? 1;
  const pooled = sum(s.idle, size) + sum(s.filling, size);
  const room = s.max - s.inUse - s.queued;
  const evictSandboxes = Math.max(0, Math.min(sum(s.idle, size), pooled - Math.max(0, room)));
  if (evictSandboxes > 0) return { create: [], evictSandboxes };

  let free = room - pooled;
  let memory = s.memoryHeadroomMiB;
  let inFlight = [...s.filling.values()].reduce((a, b) => a + b, 0);
  const have = new Map<string, number>();
  for (const k of s.targets.keys()) have.set(k, (s.idle.get(k) ?? 0) + (s.filling.get(k) ?? 0));
  const create: string[] = [];
  while (inFlight < s.maxInFlight) {
    let best: string | undefined;
    let bestGap = 0;
    for (const [k, target] of s.targets) {
      const gap = target - (have.get(k) ?? 0);
      if (gap > bestGap && size(k) <= free && size(k) * s.idleSandboxMiB <= memory) {
        best = k;
        bestGap = gap;
      }
    }
    if (best === undefined) break;
    create.push(best);
    have.set(best, (have.get(best) ?? 0) + 1);
    free -= size(best);
    memory -= size(best) * s.idleSandboxMiB;
    inFlight++;
  }
  return { create, evictSandboxes: 0 };
}

/** A configured size raised by event pre-warming, while the boost lasts. */
export function effectiveTarget(base: number, boosts: { count: number; from: number; until: number }[], now: number): number {
  let t = base;
  for (const b of boosts) if (now >= b.from && now < b.until) t = Math.max(t, b.count);
  return t;
}

/**
 * Idle units split by where they sit: on an open engine (may be handed out), or on one drained or
 * lost since the unit was made (never handed out: a drained engine takes no new sessions, a lost one
 * has no sandbox left). A unit with no engine is on the only one there is.
 */
export function splitByEngine<U extends { ref: { engine?: string } }>(units: U[], engineOpen: (engine: string) => boolean): { open: U[]; closed: U[] } {
  const open: U[] = [];
  const closed: U[] = [];
  for (const u of units) (u.ref.engine === undefined || engineOpen(u.ref.engine) ? open : closed).push(u);
  return { open, closed };
}
