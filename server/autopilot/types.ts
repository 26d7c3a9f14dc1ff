// What one autopilot run found, lab by lab. Plain data: the CLI prints it and can write it as JSON.
import type { CheckResult } from '../checks/types.ts';
import type { NegativeVerdict } from './verdict.ts';

export interface BlockReport {
  id: string;
  term: number;
  line: number;
  ms: number;
  exitCode: number | null;
  timedOut: boolean;
  output: string;
}

export interface StepReport {
  id: string;
  index: number;
  title: string;
  /** Blocks the step has, and the ones that were typed (fewer when the run stopped early or skipped them). */
  blocksTotal: number;
  blocks: BlockReport[];
  /** The step's checks after its blocks; absent when they were not evaluated. */
  checks?: CheckResult[];
  /** Negative mode: the same checks before its blocks, and what that proves. */
  without?: { checks: CheckResult[]; verdict: NegativeVerdict };
  ms: number;
}

export interface VariantReport {
  name: string;
  stepId: string;
  blocks: BlockReport[];
  checks: CheckResult[];
  mustFail: string[];
  ok: boolean;
  detail: string;
}

export interface LabReport {
  id: string;
  title: string;
  /** "broken": the lab could not be run at all (load problems, no sandbox, a shell that never came up). */
  status: 'ok' | 'failed' | 'broken';
  problems: string[];
  setupMs: number;
  ms: number;
  steps: StepReport[];
  variants: VariantReport[];
}
