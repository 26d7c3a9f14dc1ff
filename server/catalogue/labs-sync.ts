// Keeps the LABS_REPOS checkouts current: on demand (the POST /hooks/labs webhook) and every
// LABS_REFRESH. One refresh at a time; a request during one gets the next one, which starts when it
// ends (a push during a fetch is not missed). When a repository moved to a new commit, onUpdated()
// reloads the catalogue, which tells open pages as a saved file does.
import { every, type Timers } from '../timers.ts';
import type { GitCheckout } from './git-checkout.ts';

export interface RepoRefresh {
  repo: string;
  status: 'updated' | 'unchanged' | 'failed';
  /** The commit served after the refresh (the last good one when it failed). */
  commit?: string;
  error?: string;
}

export interface LabsSync {
  /** The labs folders of the repositories, in LABS_REPOS order (those with a good checkout). */
  dirs(): string[];
  refresh(): Promise<RepoRefresh[]>;
  dispose(): void;
}

export function createLabsSync(deps: {
  checkouts: readonly GitCheckout[];
  timers: Timers;
  /** LABS_REFRESH; 0: only on the hook. */
  intervalMs: number;
  onUpdated(): Promise<void>;
  log(msg: string, err?: unknown): void;
}): LabsSync {
  let running: Promise<RepoRefresh[]> | undefined;
  let next: Promise<RepoRefresh[]> | undefined;

  async function refreshOnce(): Promise<RepoRefresh[]> {
    const out: RepoRefresh[] = [];
    for (const c of deps.checkouts) {
      try {
        const status = await c.refresh();
        if (status === 'updated') deps.log(`labs from ${c.repo.display}: now at ${c.commit()!.slice(0, 12)}`);
        out.push({ repo: c.repo.display, status, commit: c.commit() });
      } catch (err) {
        const error = (err as Error).message;
        deps.log(`labs from ${c.repo.display}: refresh failed, still serving ${c.commit()?.slice(0, 12) ?? 'nothing'}`, err);
        const r: RepoRefresh = { repo: c.repo.display, status: 'failed', error };
        if (c.commit()) r.commit = c.commit();
        out.push(r);
      }
    }
    if (out.some((r) => r.status === 'updated')) {
      // The new checkout is in place either way; a reload that fails is the registry's to report.
      await deps.onUpdated().catch((err) => deps.log('labs from git: reloading the catalogue failed', err));
    }
    return out;
  }

  function refresh(): Promise<RepoRefresh[]> {
    if (!running) {
      running = refreshOnce().finally(() => (running = undefined));
      return running;
    }
    next ??= running.catch(() => []).then(() => {
      next = undefined;
      return refresh();
    });
    return next;
  }

  const stop = deps.intervalMs > 0 ? every(deps.timers, deps.intervalMs, () => void refresh()) : () => {};
  return {
    dirs: () => deps.checkouts.map((c) => c.dir()).filter((d): d is string => d !== undefined),
    refresh,
    dispose: stop,
  };
}
