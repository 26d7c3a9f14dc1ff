// Session records written from synchronous paths (a phase change, an extension), kept in order:
// each write starts after the one before, so the store never goes back to an older phase.
import type { SessionRecord, Store } from './store.ts';

export interface SessionWrites {
  /** Queues a copy of the record for the store, after every earlier write. */
  persist(rec: SessionRecord): void;
  /** Resolves once every write queued so far reached the store (or failed and was logged). */
  idle(): Promise<void>;
}

export function createSessionWrites(deps: { store: Pick<Store, 'saveSession'>; log(msg: string, err?: unknown): void }): SessionWrites {
  let writes: Promise<void> = Promise.resolve();
  return {
    persist(rec) {
      const copy = { ...rec };
      writes = writes.then(() => deps.store.saveSession(copy)).catch((err) => deps.log(`session ${rec.id}: saving failed`, err));
    },
    idle: () => writes,
  };
}
