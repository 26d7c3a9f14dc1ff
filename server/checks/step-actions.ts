// What an imported lab asks of the sandbox besides typing: a step's set-up scripts, and a "Save
// file" action's write. Both go through the check context's exec (the sandbox itself, never an
// inner container), so the autopilot and a learner's session do exactly the same thing.
import path from 'node:path';
import { cleanShellArgv } from './clean-shell.ts';
import { clip } from './format.ts';
import type { CheckContext } from './verdict.ts';

/** How long one set-up script may run: it may pull or build, but must not hold a step forever. */
export const SETUP_TIMEOUT_MS = 120_000;

export interface SetupOutcome {
  ok: boolean;
  /** Why not, in a sentence a learner can act on. */
  message?: string;
}

/** Runs a step's set-up scripts in order, in the working directory; stops at the first that fails. */
export async function runStepSetup(ctx: Pick<CheckContext, 'exec' | 'workdir'>, scripts: readonly string[]): Promise<SetupOutcome> {
  for (const [i, script] of scripts.entries()) {
    const r = await ctx.exec(cleanShellArgv(ctx.workdir, script), { timeoutMs: SETUP_TIMEOUT_MS });
    if (r.timedOut) return { ok: false, message: `the step's set-up script ${i + 1} was still running after ${SETUP_TIMEOUT_MS / 1000} s and was stopped` };
    if (r.exitCode !== 0) {
      const said = (r.stderr.trim() || r.stdout.trim()).split('\n').pop() ?? '';
      return { ok: false, message: `the step's set-up script ${i + 1} exited with code ${r.exitCode}${said ? ` (${clip(said, 120)})` : ''}` };
    }
  }
  return { ok: true };
}

/** Writes a "Save file" block into the working directory (the path was checked when the lab loaded). */
export async function saveBlockFile(ctx: Pick<CheckContext, 'exec' | 'workdir'>, rel: string, content: string): Promise<SetupOutcome> {
  const file = path.posix.resolve(ctx.workdir, rel);
  if (!file.startsWith(ctx.workdir.replace(/\/?$/, '/'))) return { ok: false, message: `${rel} is outside the working directory` };
  const r = await ctx.exec(['/bin/sh', '-c', 'mkdir -p -- "$(dirname -- "$1")" && printf %s "$2" > "$1"', 'save', file, content], { timeoutMs: 10_000 });
  if (r.timedOut || r.exitCode !== 0) return { ok: false, message: `could not save ${rel}: ${clip(r.stderr.trim() || 'timed out', 120)}` };
  return { ok: true };
}
