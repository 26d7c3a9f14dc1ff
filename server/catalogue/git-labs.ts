// Labs from git (LABS_REPOS), put together: one checkout per repository under <data>/labs-repos, a
// first refresh before the catalogue loads (a failure leaves the last good checkout, or none), then
// the webhook and the LABS_REFRESH interval through createLabsSync.
import path from 'node:path';
import type { Timers } from '../timers.ts';
import type { GitRunner } from './git-cli.ts';
import { openGitCheckout } from './git-checkout.ts';
import type { LabsRepo } from './labs-repos.ts';
import { createLabsSync, type LabsSync } from './labs-sync.ts';

export async function openGitLabs(deps: {
  repos: readonly LabsRepo[];
  dataDir: string;
  git: GitRunner;
  timers: Timers;
  intervalMs: number;
  onUpdated(): Promise<void>;
  log(msg: string, err?: unknown): void;
}): Promise<LabsSync> {
  const root = path.join(deps.dataDir, 'labs-repos');
  const checkouts = await Promise.all(deps.repos.map((repo) => openGitCheckout({ repo, root, git: deps.git })));
  const sync = createLabsSync({ checkouts, timers: deps.timers, intervalMs: deps.intervalMs, onUpdated: deps.onUpdated, log: deps.log });
  await sync.refresh();
  return sync;
}
