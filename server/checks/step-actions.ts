// What an imported lab asks of the sandbox besides typing: a step's set-up scripts, and a "Save
// file" action's write. Both go through the check context's exec (the sandbox itself, never an
// inner container), so the autopilot and a learner's session do exactly the same thing.
import path from 'node:path';
import { cleanShellArgv } from './clean-shell.ts';
import { clip } from './format.ts';
import type { CheckContext } from './verdict.ts';
import type { StepSetup } from '../labs/types.ts';

/** How long one set-up script may run: it may pull or build, but must not hold a step forever. */
export const SETUP_TIMEOUT_MS = 120_000;

export interface SetupOutcome {
  ok: boolean;
  /** Why not, in a sentence a learner can act on. */
  message?: string;
}

/** A sandbox to run in: node N's, or none when the session has no such node. */
export type NodeContext = (node: number) => Pick<CheckContext, 'exec' | 'workdir'> | undefined;

/**
 * Runs a step's set-up scripts in order, each in the working directory of the node it names (an
 * Instruqt setup-<host>, a Katacoda host02 asset); stops at the first that fails.
 */
export async function runStepSetup(on: NodeContext, setups: readonly StepSetup[]): Promise<SetupOutcome> {
  for (const [i, { node, script }] of setups.entries()) {
    const where = node === 1 ? '' : ` (node${node})`;
    const ctx = on(node);
    if (!ctx) return { ok: false, message: `the step's set-up script ${i + 1} is for node${node}, which this session does not have` };
    const r = await ctx.exec(cleanShellArgv(ctx.workdir, script), { timeoutMs: SETUP_TIMEOUT_MS });
    if (r.timedOut) return { ok: false, message: `the step's set-up script ${i + 1}${where} was still running after ${SETUP_TIMEOUT_MS / 1000} s and was stopped` };
    if (r.exitCode !== 0) {
      const said = (r.stderr.trim() || r.stdout.trim()).split('\n').pop() ?? '';
      return { ok: false, message: `the step's set-up script ${i + 1}${where} exited with code ${r.exitCode}${said ? ` (${clip(said, 120)})` : ''}` };
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
