// The session manager's ports: what it asks of the check engine and what it tells pages and metrics.
// Kept apart from manager.ts so its parts (runtime, check wiring) need not import the facade.
import type { SandboxRef } from '../../sandbox/driver/types.ts';
import type { Lab } from '../labs/types.ts';
import type { CheckView, SessionView } from '../protocol/realtime.ts';

/** Runs one session's checks against its sandbox; provided by server/checks. */
export interface CheckRunner {
  /** Evaluates every check of a step now. */
  runStep(stepId: string): Promise<CheckView[]>;
  /** The learner ran a block of this step: from now on its failures are worth showing unprompted. */
  stepStarted(stepId: string): void;
  /** Runs the step's set-up scripts (imported labs), once per session; later calls wait for the same run. */
  setup(stepId: string): Promise<{ ok: boolean; message?: string }>;
  /** Something may have changed (a block finished, a prompt came back): re-check pending checks soon. */
  poke(): void;
  dispose(): void;
}

export interface CheckService {
  /** `refs[i]` is node i+1's sandbox; checks run against the first. */
  start(args: { lab: Lab; refs: SandboxRef[]; isPassed: (checkId: string) => boolean; onResults: (views: CheckView[]) => void }): CheckRunner;
}

export interface SessionEvents {
  update(view: SessionView): void;
  checks(views: CheckView[]): void;
}

/** What the session manager reports to /metrics. */
export interface SessionMetrics {
  sandboxReady(ms: number, source: 'pool' | 'cold'): void;
  checkRun(ms: number): void;
  terminalBytes(n: number): void;
  /** A keystroke reaching a sandbox shell → its first output back at the server. */
  terminalEcho(ms: number): void;
}
