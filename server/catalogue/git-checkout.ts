// One LABS_REPOS repository on disk: a bare repository that fetches the branch, and one checked-out
// tree per commit served. A new commit is checked out beside the one being served and only then
// switched to, so the registry never reads a half-written tree; a fetch or checkout that fails
// leaves the last good tree in service. The previous tree is kept one round (a session starting
// during the switch still copies its files), older ones are removed.
//
//   <root>/<key>/repo.git        the bare repository
//   <root>/<key>/tree-<commit>/  a checkout (a git worktree of repo.git)
//   <root>/<key>/current         the commit being served, so a restart serves it before any fetch
import fs from 'node:fs/promises';
import path from 'node:path';
import type { GitRunner } from './git-cli.ts';
import type { LabsRepo } from './labs-repos.ts';

export interface GitCheckout {
  readonly repo: LabsRepo;
  /** The labs folder being served (the subfolder of the current tree), or undefined before the first good fetch. */
  dir(): string | undefined;
  /** The commit being served. */
  commit(): string | undefined;
  /** Fetches the branch; checks out and switches to a new commit. Throws (keeping the last good tree) on failure. */
  refresh(): Promise<'updated' | 'unchanged'>;
}

export async function openGitCheckout(deps: { repo: LabsRepo; root: string; git: GitRunner }): Promise<GitCheckout> {
  const { repo, git } = deps;
  const home = path.join(deps.root, repo.key);
  const bare = path.join(home, 'repo.git');
  const tree = (commit: string) => path.join(home, `tree-${commit}`);
  const labsDir = (commit: string) => path.join(tree(commit), ...(repo.subdir ? repo.subdir.split('/') : []));
  let current: string | undefined;
  let previous: string | undefined;

  await fs.mkdir(home, { recursive: true });
  // After a restart: serve what was served, even if the first fetch fails.
  const saved = (await fs.readFile(path.join(home, 'current'), 'utf8').catch(() => '')).trim();
  if (/^[0-9a-f]{40,64}$/.test(saved) && (await isDir(labsDir(saved)))) current = saved;

  async function removeTree(commit: string): Promise<void> {
    // A worktree git no longer knows, or a half-made one: the folder goes either way.
    await git.run(['--git-dir', bare, 'worktree', 'remove', '--force', tree(commit)]).catch(() => {});
    await fs.rm(tree(commit), { recursive: true, force: true });
    await git.run(['--git-dir', bare, 'worktree', 'prune']).catch(() => {});
  }

  return {
    repo,
    dir: () => (current ? labsDir(current) : undefined),
    commit: () => current,
    async refresh() {
      if (!(await isDir(bare))) await git.run(['init', '--bare', '--quiet', bare]);
      await git.run(['--git-dir', bare, 'fetch', '--no-tags', '--depth', '1', '--quiet', '--', repo.url, repo.branch ?? 'HEAD']);
      const commit = (await git.run(['--git-dir', bare, 'rev-parse', '--verify', 'FETCH_HEAD^{commit}'])).trim();
      if (!/^[0-9a-f]{40,64}$/.test(commit)) throw new Error(`git rev-parse: unexpected answer "${commit.slice(0, 80)}"`);
      if (commit === current && (await isDir(labsDir(commit)))) return 'unchanged';
      if (await isDir(tree(commit))) await removeTree(commit); // left over from a crash mid-checkout
      await git.run(['--git-dir', bare, 'worktree', 'add', '--detach', '--force', '--quiet', tree(commit), commit]);
      if (!(await isDir(labsDir(commit)))) {
        await removeTree(commit);
        throw new Error(`commit ${commit.slice(0, 12)} has no folder "${repo.subdir}"`);
      }
      const tmp = path.join(home, `current.${process.pid}`);
      await fs.writeFile(tmp, `${commit}\n`);
      await fs.rename(tmp, path.join(home, 'current'));
      const stale = previous;
      previous = current;
      current = commit;
      if (stale && stale !== current && stale !== previous) await removeTree(stale);
      // Trees from before a restart that are neither served nor kept.
      for (const e of await fs.readdir(home)) {
        const m = /^tree-([0-9a-f]+)$/.exec(e);
        if (m && m[1] !== current && m[1] !== previous) await removeTree(m[1]!);
      }
      return 'updated';
    },
  };
}

async function isDir(p: string): Promise<boolean> {
  return (await fs.stat(p).catch(() => null))?.isDirectory() ?? false;
}
