// One lab, start to end: fresh sandboxes, every block typed in order, each step's checks after its blocks.
// In negative mode each step's checks are also evaluated before its blocks (every earlier step done, this
// one skipped) and must fail, and the lab's known-wrong variants are offered to their steps at the end.
// A check that fails right after its step's blocks is watched for its settle time before it counts as
// failed; the negative evaluation is one look, since nothing of the step has run that could still tick.
import type { SandboxRef } from '../../sandbox/driver/types.ts';
import type { CheckContext } from '../checks/evaluate.ts';
import type { CheckResult, CheckSpec } from '../checks/types.ts';
import type { Lab, RunBlock } from '../labs/types.ts';
import type { LabSandboxes, SandboxLedger } from './sandboxes.ts';
import type { BlockOutcome } from './shell.ts';
import type { BlockReport, LabReport, StepReport, VariantReport } from './types.ts';
import type { WrongVariant } from './variants.ts';
import { labStatus } from './report.ts';
import { runStepSetup, saveBlockFile } from '../checks/step-actions.ts';
import { conditionHolds } from '../protocol/variables.ts';
import { settleChecks } from './settle.ts';
import type { Timers } from '../timers.ts';
import { negativeVerdict, variantVerdict } from './verdict.ts';

/** What a lab run needs from a shell (ShellSession in production). */
export interface BlockShell {
  ready(): Promise<void>;
  run(code: string, timeoutMs: number): Promise<BlockOutcome>;
}

export interface LabRunDeps {
  sandboxes: SandboxLedger;
  /** Attaches to a sandbox's shell; the returned shell is ready for ShellSession.ready(). */
  openShell(ref: SandboxRef): { shell: BlockShell; dispose(): void };
  checkContext(ref: SandboxRef): CheckContext;
  evaluate(specs: readonly CheckSpec[], ctx: CheckContext): Promise<CheckResult[]>;
  /** Re-evaluates `pending()` on the sandbox engine's events until disposed (the learner page's check watcher). */
  watchChecks(ctx: CheckContext, pending: () => readonly CheckSpec[], onResults: (results: CheckResult[]) => void): { dispose(): void };
  /** Timers for the settle time; now() is the run's clock. */
  timers: Timers;
  now(): number;
  /** One line per block and check evaluation, for a live view of a long run. */
  progress(line: string): void;
}

export interface LabRunOptions {
  negative: boolean;
  blockTimeoutMs: number;
  /** How long a failing check may take to pass after its step's blocks, unless it says `within:`. */
  settleMs: number;
  variants: readonly WrongVariant[];
}

export async function verifyLab(lab: Lab, deps: LabRunDeps, opts: LabRunOptions): Promise<LabReport> {
  const started = deps.now();
  const report: LabReport = { id: lab.id, title: lab.title, status: 'ok', problems: [], setupMs: 0, ms: 0, steps: [], variants: [] };
  const finish = (): LabReport => {
    report.ms = deps.now() - started;
    report.status = labStatus(report);
    return report;
  };
  if (lab.problems.length > 0) {
    report.problems = lab.problems.map((p) => `${p.file}:${p.line}: ${p.message}`);
    return finish();
  }
  if (lab.terms < 1) {
    if (lab.steps.some((s) => s.checks.length > 0 || s.blocks.length > 0)) report.problems.push('the lab has blocks or checks but no terminal (terms: 0), so nothing can run them');
    return finish();
  }

  let sandboxes: LabSandboxes | undefined;
  const shells: { shell: BlockShell; dispose(): void }[] = [];
  try {
    try {
      sandboxes = await deps.sandboxes.open(lab, started);
      for (const ref of sandboxes.refs) {
        const s = deps.openShell(ref);
        shells.push(s);
        await s.shell.ready();
      }
    } catch (err) {
      report.problems.push(`the sandbox did not start: ${(err as Error).message}`);
      return finish();
    } finally {
      report.setupMs = deps.now() - started;
    }
    const refs = sandboxes.refs;
    const nodeCtx = (node: number) => (refs[node - 1] ? deps.checkContext(refs[node - 1]!) : undefined);
    // Checks ask node 1's sandbox; a command check that names a node runs in that node's, as in a session.
    const ctx: CheckContext = { ...deps.checkContext(refs[0]!), onNode: nodeCtx };
    // After the blocks, as a learner's page would: checks that fail at once get their settle time.
    const judge = async (specs: readonly CheckSpec[]): Promise<CheckResult[]> =>
      settleChecks(specs, await deps.evaluate(specs, ctx), opts.settleMs, {
        evaluate: (s) => deps.evaluate(s, ctx),
        watch: (pending, onResults) => deps.watchChecks(ctx, pending, onResults),
        timers: deps.timers,
      });

    const runBlock = async (b: Pick<RunBlock, 'id' | 'term' | 'line' | 'code' | 'save'>): Promise<BlockReport> => {
      if (b.save !== undefined) {
        // A "Save file" action: written as the page's button writes it.
        const t0 = deps.now();
        const saved = await saveBlockFile(deps.checkContext(sandboxes!.refs[b.term - 1] ?? sandboxes!.refs[0]!), b.save, b.code);
        deps.progress(`  ${lab.id} ${b.id} (save ${b.save}): ${saved.ok ? 'saved' : saved.message}`);
        return { id: b.id, term: b.term, line: b.line, ms: deps.now() - t0, exitCode: saved.ok ? 0 : 1, timedOut: false, output: saved.message ?? '' };
      }
      const shell = shells[b.term - 1]?.shell;
      if (!shell) return { id: b.id, term: b.term, line: b.line, ms: 0, exitCode: null, timedOut: false, output: `no terminal ${b.term} (the lab has ${lab.terms})` };
      const r = await shell.run(b.code, opts.blockTimeoutMs);
      deps.progress(`  ${lab.id} ${b.id} (term ${b.term}): ${r.timedOut ? 'timed out' : `exit ${r.exitCode ?? '?'}`} in ${(r.ms / 1000).toFixed(1)} s`);
      return { id: b.id, term: b.term, line: b.line, ms: r.ms, exitCode: r.exitCode, timedOut: r.timedOut, output: r.output };
    };

    for (const step of lab.steps) {
      const t0 = deps.now();
      const sr: StepReport = { id: step.id, index: step.index, title: step.title, blocksTotal: step.blocks.length, blocks: [], ms: 0 };
      report.steps.push(sr);
      // The step's set-up prepares the sandbox before anything else, as in a learner's session.
      if (step.setup?.length) {
        const done = await runStepSetup(nodeCtx, step.setup);
        deps.progress(`  ${lab.id} ${step.id} set-up: ${done.ok ? 'done' : done.message}`);
        if (!done.ok) report.problems.push(`${step.title}: ${done.message}`);
      }
      if (opts.negative && step.checks.length > 0) {
        const before = await deps.evaluate(step.checks, ctx);
        sr.without = { checks: before, verdict: negativeVerdict(before) };
        deps.progress(`  ${lab.id} ${step.id} without its blocks: ${sr.without.verdict.kind}`);
      }
      // A no-newline block is the start of an answer a person finishes: nothing to run unattended.
      // A block inside a ```when part runs only if the lab's defaults show that part, as a page would.
      for (const b of step.blocks) if (!b.noNewline && (b.when ?? []).every((c) => conditionHolds(c, lab.variables ?? {}))) sr.blocks.push(await runBlock(b));
      if (step.checks.length > 0) {
        sr.checks = await judge(step.checks);
        deps.progress(`  ${lab.id} ${step.id} checks: ${sr.checks.filter((c) => c.status === 'pass').length}/${sr.checks.length} pass`);
      }
      sr.ms = deps.now() - t0;
    }

    if (opts.negative) {
      for (const v of opts.variants.filter((v) => v.lab === lab.id)) report.variants.push(await runVariant(lab, v, runBlock, deps, judge));
    }
    return finish();
  } catch (err) {
    // A shell that died mid-run: report it with whatever ran so far.
    report.problems.push((err as Error).message);
    return finish();
  } finally {
    for (const s of shells) s.dispose();
    await sandboxes?.dispose();
  }
}

async function runVariant(
  lab: Lab,
  v: WrongVariant,
  runBlock: (b: Pick<RunBlock, 'id' | 'term' | 'line' | 'code'>) => Promise<BlockReport>,
  deps: LabRunDeps,
  judge: (specs: readonly CheckSpec[]) => Promise<CheckResult[]>,
): Promise<VariantReport> {
  const step = lab.steps.find((s) => s.title === v.step);
  const vr: VariantReport = { name: v.name, stepId: step?.id ?? '?', blocks: [], checks: [], mustFail: [], ok: false, detail: '' };
  if (!step) {
    vr.detail = `the lab has no step titled "${v.step}"`;
    return vr;
  }
  vr.mustFail = step.checks.filter((c) => v.mustFail.includes(c.kind)).map((c) => c.id);
  for (const [i, code] of v.blocks.entries()) vr.blocks.push(await runBlock({ id: `wrong${i + 1}`, term: 1, line: 0, code }));
  const broken = vr.blocks.find((b) => b.timedOut || b.exitCode !== 0);
  if (broken) {
    vr.detail = `the variant itself did not run (block ${broken.id}: ${broken.timedOut ? 'timed out' : `exit ${broken.exitCode}`})`;
    return vr;
  }
  vr.checks = await judge(step.checks);
  const verdict = variantVerdict(vr.checks, vr.mustFail);
  vr.ok = verdict.ok;
  if (vr.mustFail.length === 0) vr.detail = `the step has no ${v.mustFail.join(' or ')} check to offer it to`;
  else if (verdict.ok) vr.detail = `${vr.mustFail.length} of its ${step.checks.length} checks (${v.mustFail.join(', ')}) fail as they must`;
  else vr.detail = `these checks passed the wrong build: ${verdict.passedWrongly.join(', ')}`;
  deps.progress(`  ${lab.id} variant: ${vr.ok ? 'caught' : 'NOT caught'}`);
  return vr;
}
