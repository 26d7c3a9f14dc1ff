// Records check results for a learner and lab: a pass is never downgraded, and only what changed is
// written. Results for one learner and lab are recorded one after another, so two check runs that
// finish together cannot both read the old row and undo each other's pass.
import type { CheckView } from '../protocol/realtime.ts';
import { mergeResult } from '../checks/merge.ts';
import type { ProgressRow, Store } from './store.ts';

export interface ProgressRecorder {
  progress(learnerId: string, labId: string): Promise<ProgressRow[]>;
  /** Merges `views` with what is stored; returns the merged views and the ones that changed. */
  record(learnerId: string, labId: string, views: CheckView[]): Promise<{ merged: CheckView[]; changed: CheckView[] }>;
  /** Resolves when every record started so far is written. */
  idle(): Promise<void>;
}

const strip = ({ id, stepId, status, message, actual, expected }: CheckView): CheckView => ({ id, stepId, status, message, actual, expected });

export function createProgressRecorder(deps: { store: Store; now(): number }): ProgressRecorder {
  const chains = new Map<string, Promise<unknown>>();
  const serial = <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const next = (chains.get(key) ?? Promise.resolve()).then(fn, fn);
    const tail = next.catch(() => {});
    chains.set(key, tail);
    void tail.then(() => chains.get(key) === tail && chains.delete(key));
    return next;
  };
  return {
    progress: (learnerId, labId) => deps.store.progress(learnerId, labId),
    record: (learnerId, labId, views) =>
      serial(`${learnerId}\0${labId}`, async () => {
        const before = new Map((await deps.store.progress(learnerId, labId)).map((p) => [p.id, p]));
        const merged = views.map((v) => strip(mergeResult(before.get(v.id), v)));
        const changed = merged.filter((v) => {
          const b = before.get(v.id);
          return !b || b.status !== v.status || b.message !== v.message;
        });
        if (changed.length) await deps.store.saveProgress(learnerId, labId, changed, deps.now());
        return { merged, changed };
      }),
    idle: async () => void (await Promise.all(chains.values())),
  };
}
