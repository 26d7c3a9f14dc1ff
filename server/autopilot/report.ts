// Text and JSON views of lab reports. Pure: strings in, strings out.
import type { CheckResult } from '../checks/types.ts';
import type { BlockReport, LabReport, StepReport } from './types.ts';
import { AUTOPILOT } from './tuning.ts';
import { negativeOk } from './verdict.ts';

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function formatTable(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all
    .map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd())
    .join('\n');
}

export function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function clipTitle(s: string, max = 34): string {
  return s.length <= max ? s : s.slice(0, max - 1) + '…';
}

const passed = (cs: readonly CheckResult[]) => cs.filter((c) => c.status === 'pass').length;

/** A block went wrong when it timed out or its last command exited non-zero. */
export function blockFailed(b: BlockReport): boolean {
  return b.timedOut || (b.exitCode !== null && b.exitCode !== 0);
}

export function stepFailed(s: StepReport): boolean {
  return s.blocks.some(blockFailed) || (s.checks ?? []).some((c) => c.status !== 'pass') || (s.without !== undefined && !negativeOk(s.without.verdict));
}

function negativeCell(s: StepReport): string {
  if (!s.without) return '';
  const v = s.without.verdict;
  const tally = `${passed(s.without.checks)}/${s.without.checks.length} pass`;
  switch (v.kind) {
    case 'no-checks': return '–';
    case 'can-fail': return `${tally}: can fail`;
    case 'weak': return `${tally}: WEAK`;
    case 'inconclusive': return `${tally}: INCONCLUSIVE`;
  }
}

/** The per-step table of one lab, followed by what went wrong under each failing step. */
export function formatLab(lab: LabReport, opts: { negative: boolean; verbose?: boolean }): string {
  const out: string[] = [`${lab.id} — ${lab.title}  (sandbox ${secs(lab.setupMs)}, total ${secs(lab.ms)})`];
  for (const p of lab.problems) out.push(`  BROKEN: ${p}`);
  if (lab.steps.length > 0) {
    const header = ['step', 'title', 'blocks', 'checks', 'time', ...(opts.negative ? ['without its blocks'] : []), 'result'];
    const rows = lab.steps.map((s) => {
      const checks = s.checks ? `${passed(s.checks)}/${s.checks.length}` : '–';
      return [s.id, clipTitle(s.title), `${s.blocks.length}/${s.blocksTotal}`, checks, secs(s.ms), ...(opts.negative ? [negativeCell(s)] : []), stepFailed(s) ? 'FAIL' : 'ok'];
    });
    out.push(indent(formatTable(header, rows), '  '));
  }
  for (const s of lab.steps) {
    const details = stepDetails(s, opts.verbose ?? false);
    if (details.length) out.push(`  ${s.id} ${s.title}:`, ...details.map((d) => `    ${d}`));
  }
  for (const v of lab.variants) {
    out.push(`  known-wrong variant "${v.name}" offered to ${v.stepId}: ${v.ok ? 'caught' : 'NOT CAUGHT'} — ${v.detail}`);
    for (const c of v.checks.filter((c) => v.mustFail.includes(c.id))) out.push(`    ${mark(c)} ${c.id} ${c.message}`);
  }
  return out.join('\n');
}

function mark(c: CheckResult): string {
  return c.status === 'pass' ? '✓' : '✗';
}

function stepDetails(s: StepReport, verbose: boolean): string[] {
  const lines: string[] = [];
  const failed = stepFailed(s);
  for (const b of s.blocks) {
    if (blockFailed(b)) lines.push(`✗ block ${b.id} (line ${b.line}, term ${b.term}) ${b.timedOut ? `timed out after ${secs(b.ms)}` : `exited ${b.exitCode}`}`);
    if (verbose || (failed && blockFailed(b))) lines.push(...tail(b.output, verbose ? Infinity : AUTOPILOT.failureTailLines).map((l) => `│ ${l}`));
  }
  for (const c of s.checks ?? []) if (c.status !== 'pass') lines.push(`✗ ${c.id} ${c.message}${c.problem ? ` [${c.problem}]` : ''}`);
  if (s.without) {
    const v = s.without.verdict;
    if (v.kind === 'weak') lines.push(`✗ every check passes without this step's blocks: the step proves nothing the earlier steps didn't`);
    if (v.kind === 'inconclusive') lines.push(`✗ without its blocks the checks failed only for outside reasons (${v.problems.join(', ')}): no proof they can fail`);
    if (verbose || v.kind !== 'can-fail') {
      for (const c of s.without.checks) lines.push(`  without blocks ${mark(c)} ${c.id} ${c.message}`);
    }
  }
  // A failing step's output helps even when only a check failed: show the last block's tail.
  if (!verbose && failed && !s.blocks.some(blockFailed) && (s.checks ?? []).some((c) => c.status !== 'pass')) {
    const last = s.blocks[s.blocks.length - 1];
    if (last) lines.push(`last block ${last.id} printed:`, ...tail(last.output, AUTOPILOT.failureTailLines).map((l) => `│ ${l}`));
  }
  return lines;
}

function tail(text: string, n: number): string[] {
  const lines = text.split('\n');
  return lines.slice(Math.max(0, lines.length - n));
}

function indent(text: string, by: string): string {
  return text.split('\n').map((l) => by + l).join('\n');
}

export interface Summary {
  labs: number;
  labs_failed: number;
  labs_broken: number;
  steps: number;
  blocks: number;
  blocks_failed: number;
  checks_passed: number;
  checks_failed: number;
  negative_ok?: number;
  negative_weak?: number;
  negative_inconclusive?: number;
  variants_caught?: number;
  variants_missed?: number;
  seconds: number;
  ok: boolean;
}

export function summarize(labs: readonly LabReport[], opts: { negative: boolean; ms: number }): Summary {
  const steps = labs.flatMap((l) => l.steps);
  const checks = steps.flatMap((s) => s.checks ?? []);
  const blocks = steps.flatMap((s) => s.blocks);
  const s: Summary = {
    labs: labs.length,
    labs_failed: labs.filter((l) => l.status === 'failed').length,
    labs_broken: labs.filter((l) => l.status === 'broken').length,
    steps: steps.length,
    blocks: blocks.length,
    blocks_failed: blocks.filter(blockFailed).length,
    checks_passed: checks.filter((c) => c.status === 'pass').length,
    checks_failed: checks.filter((c) => c.status !== 'pass').length,
    seconds: Math.round(opts.ms / 100) / 10,
    ok: labs.every((l) => l.status === 'ok'),
  };
  if (opts.negative) {
    const verdicts = steps.flatMap((st) => (st.without && st.without.verdict.kind !== 'no-checks' ? [st.without.verdict] : []));
    s.negative_ok = verdicts.filter((v) => v.kind === 'can-fail').length;
    s.negative_weak = verdicts.filter((v) => v.kind === 'weak').length;
    s.negative_inconclusive = verdicts.filter((v) => v.kind === 'inconclusive').length;
    const variants = labs.flatMap((l) => l.variants);
    s.variants_caught = variants.filter((v) => v.ok).length;
    s.variants_missed = variants.filter((v) => !v.ok).length;
  }
  // Keep key order stable for readers: `ok` and `seconds` last.
  const { seconds, ok, ...rest } = s;
  return { ...rest, seconds, ok } as Summary;
}

/** A lab's status from its steps and variants. */
export function labStatus(lab: Pick<LabReport, 'problems' | 'steps' | 'variants'>): LabReport['status'] {
  if (lab.problems.length > 0) return 'broken';
  if (lab.steps.some(stepFailed) || lab.variants.some((v) => !v.ok)) return 'failed';
  return 'ok';
}

