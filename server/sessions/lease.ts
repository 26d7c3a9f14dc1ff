// Work that must happen once across replicas (reaping, sweeping expired sessions, the warm pool)
// runs only in the replica holding a lease in the shared database. The holder renews it well
// before it lapses; a replica that dies stops renewing, and another takes over after `ttlMs`.
import type { Timers } from '../timers.ts';
import type { Store } from './store.ts';

export interface Lease {
  /** True while this replica held the lease at its last renewal. */
  held(): boolean;
  /** Takes or renews the lease now; true when this replica holds it. */
  renew(): Promise<boolean>;
  /** Stops renewing and gives the lease up, so another replica need not wait for it to lapse. */
  dispose(): Promise<void>;
}

export function createLease(deps: {
  store: Pick<Store, 'takeLease' | 'releaseLease'>;
  name: string;
  holder: string;
  ttlMs: number;
  timers: Timers;
  log(msg: string, err?: unknown): void;
  /** Called when this replica gains (true) or loses (false) the lease. */
  onChange?(held: boolean): void;
}): Lease {
  let held = false;
  let timer: unknown;
  let disposed = false;
  const renew = async (): Promise<boolean> => {
    let now = false;
    try {
      now = await deps.store.takeLease(deps.name, deps.holder, deps.ttlMs, deps.timers.now());
    } catch (err) {
      // The database is away: act as if not holding, since another replica may take over meanwhile.
      deps.log(`lease ${deps.name}: renewal failed`, err);
    }
    if (disposed) return false;
    if (now !== held) {
      held = now;
      deps.log(`lease ${deps.name}: ${held ? 'taken' : 'lost'} by ${deps.holder}`);
      deps.onChange?.(held);
    }
    return held;
  };
  const loop = () => {
    timer = deps.timers.setTimeout(() => void renew().finally(() => !disposed && loop()), deps.ttlMs / 3);
  };
  loop();
  return {
    held: () => held,
    renew,
    async dispose() {
      disposed = true;
      deps.timers.clearTimeout(timer);
      if (held) await deps.store.releaseLease(deps.name, deps.holder).catch((err) => deps.log(`lease ${deps.name}: release failed`, err));
      held = false;
    },
  };
}
