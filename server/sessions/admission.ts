// Who may start now, and everyone else's place in line. A lone server decides from its own sessions,
// at once. Replicas decide from every live session in the shared store, so MAX_SANDBOXES holds for
// all of them together and a learner's place in line reads the same on every replica; one replica
// decides at a time, under a short lease in the store, and writes its decision before letting go.
import type { Timers } from '../timers.ts';
import { admit, queueOrder, queuePosition, sandboxesInUse, type SessionLike } from './lifecycle.ts';
import type { SessionRecord, Store } from './store.ts';

export interface Admission {
  /**
   * Starts the queued sessions of this replica that fit now. `start` must write their new phase
   * (through the session writes that `idle` waits for). Lone: done before returning.
   */
  pump(local: () => SessionLike[], start: (ids: string[]) => void): Promise<void> | void;
  /** 1-based place in the line (of every replica, when shared). */
  position(local: SessionLike[], id: string): { position: number; length: number } | undefined;
  /** Sandboxes in use and wanted by queued sessions (of every replica, when shared). */
  capacity(local: SessionLike[]): { inUse: number; queued: number };
  dispose(): void;
}

const capacityOf = (all: SessionLike[]) => ({ inUse: sandboxesInUse(all), queued: queueOrder(all).reduce((n, s) => n + s.sandboxes, 0) });

export function createLocalAdmission(maxSandboxes: number): Admission {
  return {
    pump: (local, start) => start(admit(local(), maxSandboxes)),
    position: (local, id) => queuePosition(local, id),
    capacity: capacityOf,
    dispose() {},
  };
}

export const ADMISSION_LEASE = { name: 'admission', ttlMs: 10_000, retryMs: 200 } as const;

/**
 * Another replica's queued session that was its turn this long ago and is still queued has nobody to
 * start it (its replica died, and its learner closed the tab): it stops holding its place, so it does
 * not keep a slot from everyone behind it until it expires. A live replica starts its admitted
 * sessions within one queue tick (2 s) and a few lease retries. If the learner comes back, the
 * replica they reach adopts the session and it counts again.
 */
export const STALE_TURN_MS = 30_000;

export function createSharedAdmission(deps: {
  store: Pick<Store, 'liveSessions' | 'takeLease' | 'releaseLease'>;
  holder: string;
  maxSandboxes: number;
  /** Sandboxes a session of this lab needs (labs are the same on every replica). */
  sandboxesOf(labId: string): number;
  /** Resolves when this replica's session writes reached the store. */
  idle(): Promise<void>;
  timers: Timers;
  log(msg: string, err?: unknown): void;
}): Admission {
  const { store, timers } = deps;
  /** Sessions of other replicas, as last read; this replica's own are always taken from memory. */
  let remote: SessionRecord[] = [];
  let running = false;
  let again: (() => SessionLike[]) | undefined;
  let retry: unknown;
  let disposed = false;

  /** Other replicas' queued sessions → when they were first seen to be their turn. */
  const turnSince = new Map<string, number>();
  const missedTurn = (id: string, now: number) => now - (turnSince.get(id) ?? now) >= STALE_TURN_MS;

  const everyone = (local: SessionLike[]): SessionLike[] => {
    const mine = new Set(local.map((s) => s.id));
    const now = timers.now();
    const others = remote
      // A session past its time is swept by the lease holder soon; it holds no place meanwhile.
      .filter((r) => !mine.has(r.id) && r.expiresAt > now && !(r.phase === 'queued' && missedTurn(r.id, now)))
      .map((r) => ({ id: r.id, phase: r.phase, createdAt: r.createdAt, expiresAt: r.expiresAt, sandboxes: deps.sandboxesOf(r.labId), seq: 0 }));
    return [...local.map((s) => ({ ...s, seq: 0 })), ...others];
  };

  /** Remembers when each of these other replicas' sessions was first its turn; forgets the ones no longer queued. */
  const noteTurns = (theirs: string[]) => {
    const now = timers.now();
    const stillQueued = new Set(remote.filter((r) => r.phase === 'queued').map((r) => r.id));
    for (const id of turnSince.keys()) if (!stillQueued.has(id)) turnSince.delete(id);
    for (const id of theirs) if (!turnSince.has(id)) turnSince.set(id, now);
  };

  const decide = async (local: () => SessionLike[], start: (ids: string[]) => void): Promise<void> => {
    // Our own finished writes first, so the store does not still count a session that just ended here.
    await deps.idle();
    const hasQueued = local().some((s) => s.phase === 'queued');
    if (!hasQueued) {
      remote = await store.liveSessions();
      return;
    }
    if (!(await store.takeLease(ADMISSION_LEASE.name, deps.holder, ADMISSION_LEASE.ttlMs, timers.now()))) {
      // Another replica is deciding: look again shortly rather than at the next queue tick.
      if (retry === undefined && !disposed) retry = timers.setTimeout(() => ((retry = undefined), void run(local, start)), ADMISSION_LEASE.retryMs);
      remote = await store.liveSessions();
      return;
    }
    try {
      remote = await store.liveSessions();
      const mine = new Set(local().map((s) => s.id));
      const turn = admit(everyone(local()), deps.maxSandboxes);
      noteTurns(turn.filter((id) => !mine.has(id)));
      const ids = turn.filter((id) => mine.has(id));
      if (ids.length) {
        start(ids);
        await deps.idle();
      }
    } finally {
      await store.releaseLease(ADMISSION_LEASE.name, deps.holder);
    }
  };

  const run = async (local: () => SessionLike[], start: (ids: string[]) => void): Promise<void> => {
    if (running) {
      again = local; // one more round when this one ends, with the sessions as they are then
      return;
    }
    running = true;
    try {
      await decide(local, start);
    } catch (err) {
      deps.log('admission: reading or writing the shared queue failed; will retry', err);
    } finally {
      running = false;
    }
    if (again && !disposed) {
      const next = again;
      again = undefined;
      await run(next, start);
    }
  };

  return {
    // `local` is read again inside the lease: sessions may have ended while we waited for it.
    pump: (local, start) => (disposed ? undefined : run(local, start)),
    position: (local, id) => queuePosition(everyone(local), id),
    capacity: (local) => capacityOf(everyone(local)),
    dispose() {
      disposed = true;
      timers.clearTimeout(retry);
    },
  };
}
