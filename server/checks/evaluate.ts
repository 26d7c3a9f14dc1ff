// Turns a CheckSpec into a verdict by asking the sandbox: its inner engine for images and containers, and
// short commands for files. Never throws: engine errors, timeouts and malformed checks are verdicts too.
import { TUNING } from '../config.ts';
import { systemTimers } from '../timers.ts';
import { clip, seconds } from './format.ts';
import { CHECK_KINDS, type CheckResult, type CheckSpec } from './types.ts';
import { runObjectCheck } from './object-checks.ts';
import { type CheckContext, type Lookup, CheckTimeout, createLookup, type Verdict, authorError, code } from './verdict.ts';
import { imageBase, imageConfig, imageExists, imageLayers, imagePath, imageSize, imageTarget } from './image-checks.ts';
import { containerGone, containerLogs, containerPort, containerState } from './container-checks.ts';
import { command, fileContains, fileExists } from './file-checks.ts';

export type { CheckContext } from './verdict.ts';
export { compilePattern } from './verdict.ts';

/** Options for one evaluation. */
export interface EvaluateOptions {
  /** Per-check time limit; default TUNING.checkTimeoutMs. */
  timeoutMs?: number;
}

// ---- running checks -------------------------------------------------------------------------------


function expectedFallback(spec: CheckSpec): string {
  return spec.title ?? spec.kind;
}

async function run(spec: CheckSpec, ctx: CheckContext, l: Lookup, deadline: number): Promise<Verdict> {
  switch (spec.kind) {
    case 'image.exists': return imageExists(spec, l);
    case 'image.size': return imageSize(spec, l);
    case 'image.layers': return imageLayers(spec, l);
    case 'image.base': return imageBase(spec, l);
    case 'image.config': return imageConfig(spec, l);
    case 'image.path': return imagePath(spec, ctx, l);
    case 'image.target': return imageTarget(spec, ctx, l, deadline);
    case 'container.state': return containerState(spec, l);
    case 'container.port': return containerPort(spec, l);
    case 'container.logs': return containerLogs(spec, ctx, l);
    case 'container.gone': return containerGone(spec, l);
    case 'file.exists': return fileExists(spec, ctx, deadline);
    case 'file.contains': return fileContains(spec, ctx, deadline);
    case 'command': return command(spec, ctx, deadline);
    default: {
      if ((CHECK_KINDS as readonly string[]).includes(spec.kind)) return runObjectCheck(spec, ctx, l);
      const kind = (spec as { kind: string }).kind;
      return authorError(kind, `This lab uses a check kind ${code(kind)} that this server does not know.`);
    }
  }
}

function timedOut(spec: CheckSpec, ms: number): Verdict {
  return {
    status: 'fail', actual: 'timed out', expected: expectedFallback(spec), problem: 'timeout',
    message: `The check timed out after ${seconds(ms)} — the sandbox may be busy (a build running?). It will be checked again; or click Check.`,
  };
}

async function evaluateWith(spec: CheckSpec, ctx: CheckContext, l: Lookup, timeoutMs: number): Promise<CheckResult> {
  const started = ctx.now();
  const deadline = started + timeoutMs;
  const timers = ctx.timers ?? systemTimers;
  let timer: unknown;
  const limit = new Promise<Verdict>((resolve) => {
    timer = timers.setTimeout(() => resolve(timedOut(spec, timeoutMs)), timeoutMs);
  });
  const work = run(spec, ctx, l, deadline).catch((err: unknown): Verdict => {
    if (err instanceof CheckTimeout) return timedOut(spec, timeoutMs);
    const why = err instanceof Error ? err.message : String(err);
    return {
      status: 'fail', actual: 'engine error', expected: expectedFallback(spec), problem: 'engine',
      message: `Couldn't ask the sandbox (${clip(why, 120)}). It may be restarting; the check will run again.`,
    };
  });
  // A hung engine call keeps running in the background; its late answer is dropped.
  const v = await Promise.race([work, limit]);
  timers.clearTimeout(timer);
  const result: CheckResult = { id: spec.id, status: v.status, expected: v.expected, message: v.message, at: started, durationMs: Math.max(0, ctx.now() - started) };
  if (v.actual !== undefined) result.actual = v.actual;
  if (v.problem) result.problem = v.problem;
  return result;
}

/** Evaluates one check; never throws. */
export function evaluateCheck(spec: CheckSpec, ctx: CheckContext, opts: EvaluateOptions = {}): Promise<CheckResult> {
  return evaluateWith(spec, ctx, createLookup(ctx.engine), opts.timeoutMs ?? TUNING.checkTimeoutMs);
}

/** Evaluates a step's checks in parallel (sharing engine lookups), each under its own time limit. Results are in `specs` order. */
export function evaluateChecks(specs: readonly CheckSpec[], ctx: CheckContext, opts: EvaluateOptions = {}): Promise<CheckResult[]> {
  const l = createLookup(ctx.engine);
  const ms = opts.timeoutMs ?? TUNING.checkTimeoutMs;
  return Promise.all(specs.map((s) => evaluateWith(s, ctx, l, ms)));
}
