// What a lab author can assert about a learner's work, and what a verdict looks like.
// The lab parser (server/labs) produces CheckSpec values; the evaluator (server/checks) consumes them.

interface CheckBase {
  /** Stable id within the lab, e.g. "multi-stage-build.1". Used in the page as data-check-id. */
  id: string;
  /** 1-based line in lab.md where the check is written (for author errors). */
  line: number;
  /** Optional human label shown next to the status, e.g. "The runtime image is small". */
  title?: string;
  /** Optional author hint appended to a failing message. */
  hint?: string;
}

export type ImageConfigField = 'entrypoint' | 'cmd' | 'workdir' | 'env' | 'exposedPorts' | 'labels' | 'user';

export type CheckSpec = CheckBase &
  (
    | { kind: 'image.exists'; image: string; exists: boolean }
    | { kind: 'image.size'; image: string; minBytes?: number; maxBytes?: number }
    | { kind: 'image.layers'; image: string; min?: number; max?: number }
    /** base "scratch": built FROM scratch. Otherwise: shares (or, with shares=false, does not share) its base layers with that image. */
    | { kind: 'image.base'; image: string; base: string; shares: boolean }
    /** equals: exact match (arrays/objects compared as JSON); contains: substring/element match. */
    | { kind: 'image.config'; image: string; field: ImageConfigField; equals?: unknown; contains?: string }
    | { kind: 'image.path'; image: string; path: string; exists: boolean }
    /** The image is the result of `docker build --target <stage>` of the Dockerfile at `dockerfile` (sandbox path, relative to the workdir). */
    | { kind: 'image.target'; image: string; stage: string; dockerfile: string }
    /** container: name or id. state "running" or "exited"; exitCode checked when given. */
    | { kind: 'container.state'; container: string; state: 'running' | 'exited'; exitCode?: number }
    | { kind: 'container.port'; container: string; port: number; hostPort?: number }
    | { kind: 'container.logs'; container: string; contains: string }
    | { kind: 'container.gone'; container: string }
    /** path: inside the sandbox, relative to the workdir unless absolute. */
    | { kind: 'file.exists'; path: string; exists: boolean }
    | { kind: 'file.contains'; path: string; pattern: string }
    /** Runs `run` with bash in the sandbox's workdir. */
    | { kind: 'command'; run: string; exitCode?: number; stdoutContains?: string; stdoutMatches?: string }
  );

export type CheckKind = CheckSpec['kind'];

export const CHECK_KINDS: readonly CheckKind[] = [
  'image.exists', 'image.size', 'image.layers', 'image.base', 'image.config', 'image.path', 'image.target',
  'container.state', 'container.port', 'container.logs', 'container.gone',
  'file.exists', 'file.contains', 'command',
];

export type CheckStatus = 'pending' | 'pass' | 'fail';

export interface CheckResult {
  id: string;
  status: CheckStatus;
  /** What was measured, human-readable ("867 MB", "no such image"). */
  actual?: string;
  /** What the step expects ("under 20 MB"). */
  expected: string;
  /** A full sentence a learner understands, with a hint when failing. */
  message: string;
  /** Epoch ms of the evaluation. */
  at: number;
  /** Evaluation time in ms. */
  durationMs: number;
  /**
   * Set when the verdict is not about the learner's work: "author" (the lab's check is malformed, e.g. a
   * pattern that is not a valid regular expression), "timeout" (the check ran past its time limit),
   * "engine" (the sandbox's engine could not be asked). The status is then "fail"; absent on real verdicts.
   */
  problem?: 'author' | 'timeout' | 'engine';
}
