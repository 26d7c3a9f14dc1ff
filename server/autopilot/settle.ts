// Waits as a learner would: a check that fails right after a step's blocks (a container whose first health
// check is still seconds away) gets its settle time, during which the engine's events re-evaluate it, as
// they tick a learner's page. At the end of its time it is evaluated once more (files and commands send no
// events) and whatever it says then is the verdict.
import type { Timers } from '../timers.ts';
import type { CheckResult, CheckSpec } from '../checks/types.ts';

export interface SettleDeps {
  evaluate(specs: readonly CheckSpec[]): Promise<CheckResult[]>;
  /**
   * Re-evaluates `pending()` on the engine's events until disposed (createCheckWatcher in production);
   * each evaluation's results go to onResults.
   */
  watch(pending: () => readonly CheckSpec[], onResults: (results: CheckResult[]) => void): { dispose(): void };
  timers: Timers;
}

/** How long a check may take to pass after its step's blocks: its own `within:`, else the run's default. */
export function settleTimeMs(spec: CheckSpec, defaultMs: number): number {
  return spec.withinMs ?? defaultMs;
}

/**
 * The final results of a step's checks, given their first evaluation right after the blocks. Checks that
 * passed stay passed; the others are watched until they pass or their settle time is up.
 */
export async function settleChecks(specs: readonly CheckSpec[], first: readonly CheckResult[], defaultMs: number, deps: SettleDeps): Promise<CheckResult[]> {
  const results = new Map(first.map((r) => [r.id, r]));
  const start = deps.timers.now();
  const deadline = new Map<string, number>();
  for (const s of specs) {
    const ms = settleTimeMs(s, defaultMs);
    if (results.get(s.id)?.status !== 'pass' && ms > 0) deadline.set(s.id, start + ms);
  }
  if (deadline.size === 0) return specs.map((s) => results.get(s.id)!).filter(Boolean);

  const waiting = () => specs.filter((s) => deadline.has(s.id));
  await new Promise<void>((resolve) => {
    let timer: unknown;
    let done = false;
    const record = (rs: readonly CheckResult[]): void => {
      for (const r of rs) {
        if (!deadline.has(r.id)) continue; // judged already: its time is up or it passed
        results.set(r.id, r);
        if (r.status === 'pass') deadline.delete(r.id);
      }
    };
    const finishIfDone = (): void => {
      if (done || deadline.size > 0) return;
      done = true;
      if (timer !== undefined) deps.timers.clearTimeout(timer);
      watcher.dispose();
      resolve();
    };
    const watcher = deps.watch(waiting, (rs) => {
      record(rs);
      finishIfDone();
    });
    // At each deadline: the last look for the checks whose time it is, then their verdict stands.
    const arm = (): void => {
      if (done) return;
      const next = Math.min(...deadline.values());
      timer = deps.timers.setTimeout(() => {
        timer = undefined;
        const due = waiting().filter((s) => deadline.get(s.id)! <= next);
        void deps.evaluate(due).then(record, () => {
          // An evaluation that throws leaves the last results standing; evaluateChecks itself reports problems as results.
        }).finally(() => {
          for (const s of due) deadline.delete(s.id);
          finishIfDone();
          if (!done) arm();
        });
      }, Math.max(0, next - deps.timers.now()));
    };
    arm();
    finishIfDone();
  });
  return specs.map((s) => results.get(s.id)!).filter(Boolean);
}
