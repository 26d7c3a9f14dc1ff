// Pure rules of hints: a step's author hint is shown once the step has failed twice, or once the
// learner has been on it (ran one of its blocks) for the lab's "stuck" time without passing.
// A failure is a "Check" that fails, or an automatic check that fails after the learner ran one of
// the step's blocks (once per run): the watcher re-checking on every prompt is not the learner failing again.
// Labs without hints are unaffected: a step without a hint is never tracked.

export interface HintRules {
  /** Evaluations with a failing check before the hint shows. */
  failuresBeforeHint: number;
  /** Time on a step without passing before the hint shows. */
  stuckMs: number;
}

interface StepState {
  failures: number;
  /** A block of the step ran since the last failure counted from an automatic check. */
  armed: boolean;
  startedAt?: number;
  passed: boolean;
  shown: boolean;
}

export class HintTracker {
  /** learner|lab → step → state. */
  private readonly state = new Map<string, Map<string, StepState>>();

  constructor(private readonly rules: (labKey: string) => HintRules, private readonly hasHint: (labKey: string, stepId: string) => boolean) {}

  private step(key: string, stepId: string): StepState {
    let m = this.state.get(key);
    if (!m) this.state.set(key, (m = new Map()));
    let s = m.get(stepId);
    if (!s) m.set(stepId, (s = { failures: 0, armed: false, passed: false, shown: false }));
    return s;
  }

  /** One evaluation's results (any number of steps); `asked` when the learner clicked Check. Returns the steps whose hint is now due. */
  results(key: string, labKey: string, views: { stepId: string; status: string }[], asked: boolean): string[] {
    const byStep = new Map<string, string[]>();
    for (const v of views) byStep.set(v.stepId, [...(byStep.get(v.stepId) ?? []), v.status]);
    const due: string[] = [];
    for (const [stepId, statuses] of byStep) {
      if (!this.hasHint(labKey, stepId)) continue;
      const s = this.step(key, stepId);
      if (statuses.every((x) => x === 'pass')) s.passed = true;
      else if (statuses.includes('fail') && (asked || s.armed)) {
        s.failures++;
        s.armed = false;
      }
      if (!s.passed && !s.shown && s.failures >= this.rules(labKey).failuresBeforeHint) {
        s.shown = true;
        due.push(stepId);
      }
    }
    return due;
  }

  stepStarted(key: string, labKey: string, stepId: string, now: number): void {
    if (!this.hasHint(labKey, stepId)) return;
    const s = this.step(key, stepId);
    s.startedAt ??= now;
    s.armed = true;
  }

  /** Steps whose stuck time ran out since the last tick: [key, stepId]. */
  tick(now: number, labKeyOf: (key: string) => string): [string, string][] {
    const out: [string, string][] = [];
    for (const [key, steps] of this.state) {
      const rules = this.rules(labKeyOf(key));
      for (const [stepId, s] of steps) {
        if (s.shown || s.passed || s.startedAt === undefined) continue;
        if (now - s.startedAt >= rules.stuckMs) {
          s.shown = true;
          out.push([key, stepId]);
        }
      }
    }
    return out;
  }

  /** Steps whose hint has been shown (to re-send after a reload). */
  shown(key: string): string[] {
    return [...(this.state.get(key) ?? new Map<string, StepState>())].filter(([, s]) => s.shown && !s.passed).map(([id]) => id);
  }
}

/** The lab's `hint_after:` front matter ("5m", "90s", or minutes as a number); default otherwise. */
export function hintAfterMs(raw: unknown, defMs: number): number {
  if (typeof raw === 'number' && raw > 0) return raw * 60_000;
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|h)?$/.exec(String(raw ?? '').trim());
  if (!m) return defMs;
  const mult = m[2] === 's' ? 1000 : m[2] === 'h' ? 3_600_000 : 60_000;
  return Math.round(Number(m[1]) * mult);
}
