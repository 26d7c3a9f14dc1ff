// Checks on the sandbox's working folder (files) and on commands run in it.
import path from 'node:path';
import { RegexStopped, sharedBoundedRegex } from './bounded-regex.ts';
import { cleanShellArgv } from './clean-shell.ts';
import { readPattern } from './pattern.ts';
import { clip, humanSize, plural, seconds } from './format.ts';
import type {  CheckSpec } from './types.ts';
import { CheckTimeout, type CheckContext, type Verdict, MAX_FILE_BYTES, authorError, badPattern, code, compilePattern, failing, passing, quote, readSandboxFile } from './verdict.ts';

/** An author pattern against learner-controlled text, off the event loop with a hard deadline (bounded-regex.ts). */
function boundedMatch(pattern: string, text: string): Promise<{ index: number } | null> {
  const p = readPattern(pattern);
  return sharedBoundedRegex().exec(p.source, p.flags, text);
}

function stoppedPattern(spec: CheckSpec, pattern: string, expected: string, err: unknown): Verdict {
  if (!(err instanceof RegexStopped)) return badPattern(spec, pattern, expected, err);
  return authorError(expected, `This check's pattern ${code(pattern)} was stopped: ${err.message} (it backtracks too much on this output). Lab author: simplify it at line ${spec.line} of lab.md.`);
}

// ---- file and command checks ----------------------------------------------------------------------

export async function fileExists(spec: Extract<CheckSpec, { kind: 'file.exists' }>, ctx: CheckContext, deadline: number): Promise<Verdict> {
  const expected = spec.exists ? `a file at ${spec.path}` : `nothing at ${spec.path}`;
  const file = path.posix.resolve(ctx.workdir, spec.path);
  const r = await ctx.exec(['test', '-e', file], { timeoutMs: Math.max(1, deadline - ctx.now()) });
  if (r.timedOut) throw new CheckTimeout();
  if (r.exitCode > 1) throw new Error(clip(r.stderr || `test exited with ${r.exitCode}`));
  const has = r.exitCode === 0;
  const actual = has ? 'exists' : 'missing';
  if (has === spec.exists) return passing(actual, expected, has ? `${spec.path} exists.` : `${spec.path} is gone.`);
  return has
    ? failing(spec, actual, expected, `${spec.path} is still there`, undefined)
    : failing(spec, actual, expected, `There is no ${spec.path} yet`, 'run the block above that creates it.');
}

export async function fileContains(spec: Extract<CheckSpec, { kind: 'file.contains' }>, ctx: CheckContext, deadline: number): Promise<Verdict> {
  const expected = `${spec.path} matching ${code(spec.pattern)}`;
  let re: RegExp;
  try {
    re = compilePattern(spec.pattern);
  } catch (err) {
    return badPattern(spec, spec.pattern, expected, err);
  }
  const file = path.posix.resolve(ctx.workdir, spec.path);
  const read = await readSandboxFile(ctx, file, Math.max(1, deadline - ctx.now()));
  if (!read.ok) {
    if (read.why === 'missing') return failing(spec, 'missing', expected, `There is no ${spec.path} yet`, 'run the block above that creates it.');
    if (read.why === 'not-a-file') return failing(spec, 'not a file', expected, `${spec.path} is a folder, not a file`, undefined);
    throw new Error(`could not read ${spec.path}: ${read.detail}`);
  }
  const text = read.truncated ? read.text.slice(0, MAX_FILE_BYTES) : read.text;
  let m: { index: number } | null;
  try {
    m = await boundedMatch(spec.pattern, text);
  } catch (err) {
    return stoppedPattern(spec, spec.pattern, expected, err);
  }
  if (m) {
    const lineNo = text.slice(0, m.index).split('\n').length;
    return passing(`matches at line ${lineNo}`, expected, `${spec.path} matches ${code(spec.pattern)} at line ${lineNo}.`);
  }
  const size = read.truncated ? `its first ${humanSize(MAX_FILE_BYTES)}` : plural(text.split('\n').length - (text.endsWith('\n') ? 1 : 0), 'line');
  return failing(spec, 'no match', expected, `${spec.path} (${size}) has nothing matching ${code(spec.pattern)}`,
    'compare it with the lab text; did the block that writes it run completely?');
}

/** What a check's live hint script prints (iximiuz's hintcheck), or nothing; it never fails the check by itself. */
async function liveHint(spec: Extract<CheckSpec, { kind: 'command' }>, ctx: CheckContext, deadline: number): Promise<string | undefined> {
  if (spec.hintRun === undefined) return undefined;
  const left = deadline - ctx.now();
  if (left < 1_000) return undefined; // no time left for it: the verdict matters more than the hint
  const r = await ctx.exec(cleanShellArgv(ctx.workdir, spec.hintRun), { timeoutMs: Math.floor(left / 2) });
  const text = r.stdout.trim().split('\n').map((l) => l.trim()).filter(Boolean).join(' ');
  return r.timedOut || !text ? undefined : clip(text, 300);
}

export async function command(spec: Extract<CheckSpec, { kind: 'command' }>, session: CheckContext, deadline: number): Promise<Verdict> {
  const wantCode = spec.exitCode ?? 0;
  const parts = [`exit code ${wantCode}`];
  if (spec.stdoutContains !== undefined) parts.push(`output containing ${quote(spec.stdoutContains)}`);
  if (spec.stdoutMatches !== undefined) parts.push(`output matching ${code(spec.stdoutMatches)}`);
  const expected = parts.join(' and ');
  // A check that names its node runs in that node's sandbox, never in node 1's instead.
  const ctx = spec.node === undefined || spec.node === 1 ? session : session.onNode?.(spec.node);
  if (!ctx) {
    return { status: 'fail', actual: `no node${spec.node}`, expected, problem: 'author',
      message: `This check runs on node${spec.node}, which this session does not have.` };
  }
  let re: RegExp | undefined;
  if (spec.stdoutMatches !== undefined) {
    try {
      re = compilePattern(spec.stdoutMatches);
    } catch (err) {
      return badPattern(spec, spec.stdoutMatches, expected, err);
    }
  }
  // Stop the command a little before the check's own limit, so the learner hears which command hung.
  const left = deadline - ctx.now();
  // The driver's exec limit has whole-second granularity, so round down when there are seconds to spare.
  const budget = left >= 2_000 ? Math.floor((left - 500) / 1000) * 1000 : Math.max(1, left - Math.min(500, left / 10));
  // A clean shell: the learner's dotfiles, aliases and environment cannot answer for the command.
  const r = await ctx.exec(cleanShellArgv(ctx.workdir, spec.run), { timeoutMs: budget });
  const shown = code(clip(spec.run, 60));
  if (r.timedOut) {
    return { status: 'fail', actual: 'still running', expected, problem: 'timeout',
      message: `${shown} was still running after ${seconds(budget)} and was stopped — does it wait for input or run a server in the foreground?` };
  }
  const out = r.stdout.trim();
  const lastOut = out.split('\n').pop() ?? '';
  const lastErr = r.stderr.trim().split('\n').pop() ?? '';
  if (r.exitCode !== wantCode) {
    // An imported check script names its own reason (Instruqt's "FAIL: …" line).
    const reason = spec.failLine === undefined ? undefined : (r.stdout + '\n' + r.stderr).split('\n').map((l) => l.trim()).find((l) => l.startsWith(spec.failLine!));
    const hint = await liveHint(spec, ctx, deadline);
    if (reason !== undefined) {
      const said = reason.slice(spec.failLine!.length).trim() || reason;
      return { status: 'fail', actual: `exit code ${r.exitCode}`, expected, message: `${said}${hint ? ` — ${hint}` : ''}` };
    }
    const said = lastErr || lastOut;
    return failing(spec, `exit code ${r.exitCode}`, expected, `${shown} exited with code ${r.exitCode}${said ? ` (${quote(clip(said, 100))})` : ''}`, hint);
  }
  if (spec.stdoutContains !== undefined && !r.stdout.includes(spec.stdoutContains)) {
    return failing(spec, out ? `printed ${quote(clip(lastOut, 80))}` : 'printed nothing', expected,
      `${shown} ${out ? `printed ${quote(clip(out, 100))}` : 'printed nothing'}`, undefined);
  }
  let matched = true;
  if (re) {
    try {
      matched = (await boundedMatch(spec.stdoutMatches!, r.stdout)) !== null;
    } catch (err) {
      return stoppedPattern(spec, spec.stdoutMatches!, expected, err);
    }
  }
  if (!matched) {
    return failing(spec, out ? `printed ${quote(clip(lastOut, 80))}` : 'printed nothing', expected,
      `${shown} ${out ? `printed ${quote(clip(out, 100))}` : 'printed nothing'}`, undefined);
  }
  return passing(`exit code ${r.exitCode}${out ? `, printed ${quote(clip(lastOut, 60))}` : ''}`, expected, `${shown} ${out ? `printed ${quote(clip(lastOut, 80))}` : 'succeeded'}.`);
}

