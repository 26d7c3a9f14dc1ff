import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CheckResult } from '../checks/types.ts';
import { formatLab, formatTable, labStatus, summarize } from './report.ts';
import type { LabReport, StepReport } from './types.ts';
import { negativeVerdict, variantVerdict } from './verdict.ts';
import { parseVerifyArgs, UsageError } from './args.ts';

const res = (id: string, status: 'pass' | 'fail', extra: Partial<CheckResult> = {}): CheckResult => ({
  id, status, expected: 'x', message: `${id} ${status === 'pass' ? 'is fine' : 'is wrong'}`, at: 0, durationMs: 1, ...extra,
});

test('negativeVerdict: one genuine failure proves the step can fail; all passing is weak; only outside failures prove nothing', () => {
  assert.deepEqual(negativeVerdict([res('a', 'pass'), res('b', 'fail')]), { kind: 'can-fail', failing: ['b'] });
  assert.deepEqual(negativeVerdict([res('a', 'pass'), res('b', 'pass')]), { kind: 'weak' });
  assert.deepEqual(negativeVerdict([res('a', 'pass'), res('b', 'fail', { problem: 'timeout' })]), { kind: 'inconclusive', problems: ['b'] });
  assert.deepEqual(negativeVerdict([res('a', 'fail', { problem: 'engine' }), res('b', 'fail')]), { kind: 'can-fail', failing: ['b'] });
  assert.deepEqual(negativeVerdict([]), { kind: 'no-checks' });
});

test('variantVerdict: every targeted check must fail for real', () => {
  const results = [res('s2.c1', 'pass'), res('s2.c2', 'fail'), res('s2.c3', 'fail')];
  assert.equal(variantVerdict(results, ['s2.c2', 's2.c3']).ok, true);
  assert.deepEqual(variantVerdict(results, ['s2.c1', 's2.c2']).passedWrongly, ['s2.c1']);
  assert.equal(variantVerdict([res('s2.c2', 'fail', { problem: 'timeout' })], ['s2.c2']).ok, false, 'a timeout is no proof');
  assert.equal(variantVerdict(results, []).ok, false, 'a variant with nothing to catch it proves nothing');
  assert.deepEqual(variantVerdict(results, ['s9.c1']).missing, ['s9.c1']);
});

test('formatTable aligns columns and does not pad the last one', () => {
  assert.equal(formatTable(['a', 'bb', 'c'], [['xxx', 'y', 'z'], ['1', '22', '']]), 'a    bb  c\nxxx  y   z\n1    22');
});

const step = (id: string, over: Partial<StepReport> = {}): StepReport => ({
  id, index: 0, title: `Step ${id}`, blocksTotal: 1, ms: 1500,
  blocks: [{ id: 'b1', term: 1, line: 3, ms: 100, exitCode: 0, timedOut: false, output: '[node1] /root $ ls\nmain.go' }],
  checks: [res(`${id}.c1`, 'pass')], ...over,
});

const lab = (steps: StepReport[]): LabReport => ({ id: '01-x', title: '1. X', status: 'ok', problems: [], setupMs: 1000, ms: 9000, steps, variants: [] });

test('formatLab: one row per step, and under a failing step the failing checks and the block output', () => {
  const r = lab([
    step('s1'),
    step('s2', { checks: [res('s2.c1', 'pass'), res('s2.c2', 'fail')], blocks: [{ id: 'b2', term: 1, line: 9, ms: 20_000, exitCode: 1, timedOut: false, output: 'Step 1/2\nerror: no Go files' }] }),
  ]);
  r.status = labStatus(r);
  const text = formatLab(r, { negative: false });
  assert.equal(r.status, 'failed');
  assert.match(text, /^01-x — 1\. X {2}\(sandbox 1\.0 s, total 9\.0 s\)/);
  assert.match(text, /\n {2}step {2}title {4}blocks {2}checks {2}time {3}result\n/);
  assert.match(text, /\n {2}s1 {4}Step s1 {2}1\/1 {5}1\/1 {5}1\.5 s {2}ok\n/);
  assert.match(text, /s2 {4}Step s2 {2}1\/1 {5}1\/2 {5}1\.5 s {2}FAIL/);
  assert.match(text, /✗ block b2 \(line 9, term 1\) exited 1\n\s+│ Step 1\/2\n\s+│ error: no Go files/);
  assert.match(text, /✗ s2\.c2 s2\.c2 is wrong/);
  assert.doesNotMatch(text, /main\.go/, 'output of passing steps is not shown');
});

test('formatLab in negative mode: a weak step fails and lists the checks that passed without its blocks', () => {
  const weak = step('s3', { without: { checks: [res('s3.c1', 'pass')], verdict: { kind: 'weak' } } });
  const fine = step('s2', { without: { checks: [res('s2.c1', 'fail')], verdict: { kind: 'can-fail', failing: ['s2.c1'] } } });
  const r = lab([fine, weak]);
  const text = formatLab(r, { negative: true });
  assert.equal(labStatus(r), 'failed');
  assert.match(text, /s2 .* 0\/1 pass: can fail {2}ok/);
  assert.match(text, /s3 .* 1\/1 pass: WEAK {6}FAIL/);
  assert.match(text, /every check passes without this step's blocks/);
  assert.match(text, /without blocks ✓ s3\.c1/);
});

test('labStatus: problems make a lab broken; a timed-out block or a missed variant fails it', () => {
  assert.equal(labStatus({ problems: ['no sandbox'], steps: [], variants: [] }), 'broken');
  assert.equal(labStatus({ problems: [], steps: [step('s1', { blocks: [{ id: 'b1', term: 1, line: 1, ms: 1, exitCode: null, timedOut: true, output: '' }] })], variants: [] }), 'failed');
  assert.equal(labStatus({ problems: [], steps: [step('s1')], variants: [{ name: 'v', stepId: 's1', blocks: [], checks: [], mustFail: ['s1.c1'], ok: false, detail: '' }] }), 'failed');
  assert.equal(labStatus({ problems: [], steps: [step('s1')], variants: [] }), 'ok');
});

test('summarize counts labs, steps, blocks and checks, and the negative verdicts when asked', () => {
  const a = lab([step('s1', { without: { checks: [res('s1.c1', 'fail')], verdict: { kind: 'can-fail', failing: ['s1.c1'] } } })]);
  const b = { ...lab([step('s1', { checks: [res('s1.c1', 'fail')], without: { checks: [res('s1.c1', 'pass')], verdict: { kind: 'weak' } } })]), status: 'failed' as const };
  const s = summarize([a, b], { negative: true, ms: 12_345 });
  assert.deepEqual(s, {
    labs: 2, labs_failed: 1, labs_broken: 0, steps: 2, blocks: 2, blocks_failed: 0, checks_passed: 1, checks_failed: 1,
    negative_ok: 1, negative_weak: 1, negative_inconclusive: 0, variants_caught: 0, variants_missed: 0, seconds: 12.3, ok: false,
  });
  assert.equal(JSON.stringify(summarize([a], { negative: false, ms: 0 })), '{"labs":1,"labs_failed":0,"labs_broken":0,"steps":1,"blocks":1,"blocks_failed":0,"checks_passed":1,"checks_failed":0,"seconds":0,"ok":true}');
});

test('parseVerifyArgs: lab ids, flags, defaults from env, and clear errors', () => {
  const o = parseVerifyArgs(['03-multi-stage', 'labs/05-status-codes/', '--negative', '--block-timeout=90', '--settle', '2.5'], { LABS_DIR: 'mylabs', DATA_DIR: '/d' }, '/w');
  assert.deepEqual(o, { labIds: ['03-multi-stage', '05-status-codes'], labsDir: '/w/mylabs', dataDir: '/d', negative: true, blockTimeoutMs: 90_000, settleMs: 2_500, verbose: false });
  const d = parseVerifyArgs(['--labs', 'x', '--json', 'r.json'], {}, '/w');
  assert.deepEqual(d, { labIds: [], labsDir: '/w/x', dataDir: '/w/.data', negative: false, blockTimeoutMs: 300_000, settleMs: 10_000, verbose: false, jsonFile: '/w/r.json' });
  assert.equal(parseVerifyArgs(['--help'], {}, '/w'), 'help');
  assert.throws(() => parseVerifyArgs(['--negativ'], {}, '/w'), UsageError);
  assert.throws(() => parseVerifyArgs(['--labs'], {}, '/w'), /--labs needs a value/);
  assert.throws(() => parseVerifyArgs(['--block-timeout', '0'], {}, '/w'), /positive number/);
  assert.equal((parseVerifyArgs(['--settle', '0'], {}, '/w') as { settleMs: number }).settleMs, 0);
  assert.throws(() => parseVerifyArgs(['--settle=-1'], {}, '/w'), /--settle must be a number of seconds from 0 to 600/);
});
