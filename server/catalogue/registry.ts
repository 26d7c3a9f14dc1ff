// The current set of labs, reloaded when files in the labs folder change (instant preview for
// authors: save the file, reload the page).
import fs from 'node:fs';
import type { Lab, LabProblem } from '../labs/types.ts';
import type { Timers } from '../timers.ts';

export interface LabRegistry {
  all(): Lab[];
  get(id: string): Lab | undefined;
  problems(): LabProblem[];
  reload(): Promise<void>;
  dispose(): void;
}

export async function createLabRegistry(deps: {
  dir: string;
  /** More labs folders (LABS_REPOS checkouts), asked at each reload; the labs folder's own labs win an id. */
  extraDirs?: () => string[];
  load: (dir: string) => Promise<{ labs: Lab[]; problems: LabProblem[] }>;
  watch: boolean;
  log: (msg: string, err?: unknown) => void;
  /** Called after a reload with the ids of labs whose content changed (or appeared, or vanished). */
  onChange?: (labIds: string[]) => void;
  /** The timer that lets a burst of file events settle before one reload. */
  timers: Timers;
}): Promise<LabRegistry> {
  let labs: Lab[] = [];
  let problems: LabProblem[] = [];
  let byId = new Map<string, Lab>();
  let watcher: fs.FSWatcher | undefined;
  const { timers } = deps;
  let timer: unknown;

  async function reload(): Promise<void> {
    try {
      const res = await deps.load(deps.dir);
      for (const dir of deps.extraDirs?.() ?? []) {
        try {
          const more = await deps.load(dir);
          const taken = new Set(res.labs.map((l) => l.id));
          for (const l of more.labs) {
            if (taken.has(l.id)) res.problems.push({ file: l.file, line: 1, message: `another lab already has the id "${l.id}"; this one (from ${dir}) is not served` });
            else res.labs.push(l);
          }
          res.problems.push(...more.labs.filter((l) => !taken.has(l.id)).flatMap((l) => l.problems));
        } catch (err) {
          deps.log(`could not load labs from ${dir}`, err);
        }
      }
      const before = byId;
      labs = res.labs;
      problems = res.problems;
      byId = new Map(labs.map((l) => [l.id, l]));
      const fingerprint = (l: Lab | undefined) => (l ? JSON.stringify([l.html, l.problems, l.terms, l.images]) : '');
      const changed = [...new Set([...before.keys(), ...byId.keys()])].filter((id) => fingerprint(before.get(id)) !== fingerprint(byId.get(id)));
      if (changed.length && before.size) deps.onChange?.(changed);
    } catch (err) {
      // Keep serving the last good set: one bad save must not take the catalogue down.
      deps.log(`could not reload labs from ${deps.dir}`, err);
    }
  }

  await reload();
  if (deps.watch) {
    try {
      watcher = fs.watch(deps.dir, { recursive: true }, () => {
        timers.clearTimeout(timer);
        timer = timers.setTimeout(() => void reload(), 200);
      });
      watcher.on('error', (err) => deps.log('lab folder watch stopped', err));
    } catch (err) {
      deps.log('lab folder is not watched; restart the server to pick up changes', err);
    }
  }
  return {
    all: () => labs,
    get: (id) => byId.get(id),
    problems: () => problems,
    reload,
    dispose: () => {
      timers.clearTimeout(timer);
      watcher?.close();
    },
  };
}
