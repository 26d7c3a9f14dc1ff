// Removes sandboxes no live session owns (a crash, a lost write), and, with replicas, ends the
// sessions nobody came back for before their time ran out. Runs only in the replica holding the lease
// (a lone server always holds it), every `intervalMs` on the injected clock.
import type { SandboxDriver, SandboxRef } from '../../sandbox/driver/types.ts';
import { every, type Timers } from '../timers.ts';
import type { SessionRecord, Store } from './store.ts';

export interface Reaper {
  reap(): Promise<void>;
  /** Reaps now and then every `intervalMs` until dispose(). */
  start(intervalMs: number): void;
  dispose(): void;
}

export function createReaper(deps: {
  store: Pick<Store, 'liveSessions' | 'sandboxes'>;
  driver: Pick<SandboxDriver, 'reap'>;
  timers: Timers;
  /** Present with replicas: only its holder reaps, and sessions other replicas serve come from the store. */
  lease?: { held(): boolean };
  /** Served by this replica (so not another's). */
  isLocal(sessionId: string): boolean;
  /** A sandbox label's session id belongs to something live here (a session, an alias, the pool). */
  labelLive(sessionId: string): boolean;
  /** Ends a stored session whose time ran out and removes its sandboxes. */
  expire(rec: SessionRecord, refs: SandboxRef[]): Promise<void>;
  log(msg: string, err?: unknown): void;
}): Reaper {
  const { store, lease, timers } = deps;
  let stop: (() => void) | undefined;
  const reap = async (): Promise<void> => {
    if (lease && !lease.held()) return;
    try {
      // Sessions other replicas serve are live too: their ids (and their sandboxes' ids) come from the store.
      const others = new Set<string>();
      if (lease) {
        for (const rec of await store.liveSessions()) {
          if (deps.isLocal(rec.id)) continue;
          const refs = await store.sandboxes(rec.id);
          if (rec.expiresAt <= timers.now()) {
            // Nobody came back for it before its time ran out: end it for whichever replica served it.
            await deps.expire(rec, refs);
            continue;
          }
          others.add(rec.id);
          for (const r of refs) others.add(r.sessionId);
        }
      }
      const reaped = await deps.driver.reap({ now: timers.now(), isLive: (sid) => others.has(sid) || deps.labelLive(sid) });
      if (reaped.length) deps.log(`reaped ${reaped.length} orphaned or expired sandbox(es)`);
    } catch (err) {
      deps.log('reap failed; will retry', err);
    }
  };
  return {
    reap,
    start(intervalMs) {
      stop?.();
      stop = every(timers, intervalMs, () => void reap());
    },
    dispose() {
      stop?.();
      stop = undefined;
    },
  };
}
