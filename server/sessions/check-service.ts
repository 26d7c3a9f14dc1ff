// Glue between a session and the check engine: builds the CheckContext from the sandbox driver,
// runs the watcher that ticks checks by themselves, and turns results into what the page shows.
import type { SandboxDriver, SandboxRef } from '../../sandbox/driver/types.ts';
import type { Lab } from '../labs/types.ts';
import type { CheckSpec, CheckResult } from '../checks/types.ts';
import type { CheckView } from '../protocol/realtime.ts';
import { evaluateChecks, type CheckContext } from '../checks/evaluate.ts';
import { createCheckWatcher } from '../checks/watcher.ts';
import type { CheckRunner, CheckService } from './types.ts';
import type { Timers } from '../timers.ts';
import { runStepSetup, type SetupOutcome } from '../checks/step-actions.ts';

export function createCheckService(deps: { driver: SandboxDriver; timers: Timers; log(msg: string, err?: unknown): void }): CheckService {
  return {
    start({ lab, refs, isPassed, onResults }) {
      // Checks ask node 1's sandbox; set-up scripts and command checks that name a node go to that node's.
      const ref = refs[0]!;
      const nodeCtx = (node: number) => {
        const r = refs.find((x) => x.node === node);
        return r ? contextFor(deps.driver, r, deps.timers) : undefined;
      };
      const ctx = { ...contextFor(deps.driver, ref, deps.timers), onNode: nodeCtx };
      const stepOf = new Map<string, string>();
      for (const s of lab.steps) for (const c of s.checks) stepOf.set(c.id, s.id);
      const started = new Set<string>();

      /** The first step that still has a check to pass: where the learner most likely is. */
      const currentStep = () => lab.steps.find((s) => s.checks.some((c) => !isPassed(c.id)))?.id;

      const watcher = createCheckWatcher({
        ctx,
        clock: deps.timers,
        pendingChecks: () => {
          const cur = currentStep();
          return allChecks(lab).filter((c) => {
            if (isPassed(c.id)) return false;
            // Files and commands cost a command in the sandbox: only where the learner is working.
            if (c.kind === 'command' || c.kind.startsWith('file.')) {
              const step = stepOf.get(c.id)!;
              return step === cur || started.has(step);
            }
            return true;
          });
        },
        onResults: (results) => {
          // Unprompted, a red cross on a step not begun yet is noise: report fails only where the learner has been.
          const shown = results.filter((r) => r.status === 'pass' || started.has(stepOf.get(r.id) ?? ''));
          if (shown.length) onResults(shown.map((r) => toView(r, stepOf)));
        },
        onError: (err) => deps.log(`checks for ${ref.id}: ${err.message}`),
      });

      // Each step's set-up runs once per session; the first step's as soon as the sandbox is ready.
      const setups = new Map<string, Promise<SetupOutcome>>();
      const setup = (stepId: string): Promise<SetupOutcome> => {
        const step = lab.steps.find((s) => s.id === stepId);
        if (!step?.setup?.length) return Promise.resolve({ ok: true });
        let run = setups.get(stepId);
        if (!run) {
          run = runStepSetup(nodeCtx, step.setup).catch((err: Error) => ({ ok: false, message: `the step's set-up could not run: ${err.message}` }));
          run.then((r) => { if (!r.ok) deps.log(`set-up of ${lab.id}/${stepId} for ${ref.id}: ${r.message}`); }, () => undefined);
          setups.set(stepId, run);
        }
        return run;
      };
      if (lab.steps[0]) void setup(lab.steps[0].id);

      const runner: CheckRunner = {
        setup,
        async runStep(stepId) {
          started.add(stepId);
          await setup(stepId);
          const step = lab.steps.find((s) => s.id === stepId);
          if (!step) return [];
          const results = await evaluateChecks(step.checks, ctx);
          return results.map((r) => toView(r, stepOf));
        },
        stepStarted(stepId) {
          void setup(stepId);
          if (stepOf.size && lab.steps.some((s) => s.id === stepId)) started.add(stepId);
        },
        poke: () => watcher.poke(),
        dispose: () => watcher.dispose(),
      };
      return runner;
    },
  };
}

function allChecks(lab: Lab): CheckSpec[] {
  return lab.steps.flatMap((s) => s.checks);
}

function toView(r: CheckResult, stepOf: Map<string, string>): CheckView {
  return { id: r.id, stepId: stepOf.get(r.id) ?? '', status: r.status, message: r.message, actual: r.actual, expected: r.expected };
}

export function contextFor(driver: SandboxDriver, ref: SandboxRef, timers: Timers): CheckContext {
  return {
    engine: driver.engine(ref),
    exec: (cmd, opts) => driver.exec(ref, cmd, { timeoutMs: opts?.timeoutMs }),
    workdir: ref.workdir,
    now: () => timers.now(),
    timers,
  };
}
