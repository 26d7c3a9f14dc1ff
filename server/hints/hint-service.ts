// Hints at run time: follows each learner's check results and started steps, and sends a step's
// author hint to the learner's page when the tracker says it is due.
import type { Lab } from '../labs/types.ts';
import type { CheckView } from '../protocol/realtime.ts';
import type { HintView } from '../protocol/workshop.ts';
import { HintTracker, hintAfterMs } from './hint-tracker.ts';
import { every, type Timers } from '../timers.ts';

export interface HintServiceDeps {
  lab(id: string): Lab | undefined;
  send(learnerId: string, hint: HintView): void;
  /** Stuck time for labs without `hint_after:`. */
  defaultStuckMs: number;
  failuresBeforeHint: number;
  tickMs: number;
  /** The clock and the timer of the stuck-time tick. */
  timers: Timers;
}

export interface HintService {
  /** For the session manager. */
  readonly observer: {
    results(s: { learnerId: string; labId: string }, views: CheckView[], asked: boolean): void;
    stepStarted(s: { learnerId: string; labId: string }, stepId: string): void;
  };
  hintsFor(learnerId: string, labId: string): HintView[];
  dispose(): void;
}

const SEP = '\n'; // never in a learner id or a lab id

export function hintText(lab: Lab | undefined, stepId: string): string | undefined {
  const step = lab?.steps.find((s) => s.id === stepId);
  const hints = [...new Set((step?.checks ?? []).map((c) => c.hint?.trim()).filter((h): h is string => !!h))];
  return hints.length ? hints.join(' ') : undefined;
}

export function createHintService(deps: HintServiceDeps): HintService {
  const tracker = new HintTracker(
    (labId) => ({ failuresBeforeHint: deps.failuresBeforeHint, stuckMs: hintAfterMs(deps.lab(labId)?.meta['hint_after'], deps.defaultStuckMs) }),
    (labId, stepId) => hintText(deps.lab(labId), stepId) !== undefined,
  );
  const send = (key: string, stepId: string) => {
    const [learnerId, labId] = key.split(SEP) as [string, string];
    const text = hintText(deps.lab(labId), stepId);
    if (text) deps.send(learnerId, { labId, stepId, text });
  };
  const stopTick = every(deps.timers, deps.tickMs, () => {
    for (const [key, stepId] of tracker.tick(deps.timers.now(), (k) => k.split(SEP)[1]!)) send(key, stepId);
  });

  return {
    observer: {
      results(s, views, asked) {
        const key = s.learnerId + SEP + s.labId;
        for (const stepId of tracker.results(key, s.labId, views, asked)) send(key, stepId);
      },
      stepStarted(s, stepId) {
        tracker.stepStarted(s.learnerId + SEP + s.labId, s.labId, stepId, deps.timers.now());
      },
    },
    hintsFor(learnerId, labId) {
      const lab = deps.lab(labId);
      return tracker.shown(learnerId + SEP + labId).flatMap((stepId) => {
        const text = hintText(lab, stepId);
        return text ? [{ labId, stepId, text }] : [];
      });
    },
    dispose: stopTick,
  };
}
