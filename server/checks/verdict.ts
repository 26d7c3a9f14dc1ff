// The vocabulary every check shares: the context it may use, verdict builders with messages a
// learner understands, a per-evaluation lookup memo, and reading a file from the sandbox.
import type { ContainerInfo, EngineClient, ExecResult, ImageInfo } from '../../sandbox/driver/types.ts';
import { clip } from './format.ts';
import type { CheckResult, CheckSpec, CheckStatus } from './types.ts';
import type { Timers } from '../timers.ts';

// A check's pattern is read by server/checks/pattern.ts, the same reading the lab parser validates with.
export { compilePattern } from './pattern.ts';

/** What a check may use. The server builds it from the sandbox driver (driver.engine(ref), driver.exec(ref, …)). */
export interface CheckContext {
  engine: EngineClient;
  /** Runs a command inside the sandbox (not in an inner container). */
  exec(cmd: string[], opts?: { timeoutMs?: number }): Promise<ExecResult>;
  /** The shell's starting directory in the sandbox; relative paths in checks are relative to it. */
  workdir: string;
  now(): number;
  /** The check timeout's timer (default: real timers). */
  timers?: Pick<Timers, 'setTimeout' | 'clearTimeout'>;
  /** Node N's sandbox, for a command check that names its node; undefined when the session has no such node. */
  onNode?(node: number): CheckContext | undefined;
}


/** Largest file a file.contains check reads (and the Dockerfile an image.target check reads). */
export const MAX_FILE_BYTES = 1024 * 1024;
/** How much of a container's log a container.logs check searches (its end). */
export const LOG_TAIL_BYTES = 256 * 1024;

/** Thrown inside a check when its deadline passed. */
export class CheckTimeout extends Error {}

export type Verdict = { status: CheckStatus; actual?: string; expected: string; message: string; problem?: CheckResult['problem'] };

/** Per-evaluation memo: one step's checks often look at the same image several times. */
export interface Lookup {
  image(ref: string): Promise<ImageInfo | null>;
  /** Every tagged image, once each, with all of its tags. */
  allImages(): Promise<ImageInfo[]>;
  container(ref: string): Promise<ContainerInfo | null>;
}

export function createLookup(engine: EngineClient): Lookup {
  const images = new Map<string, Promise<ImageInfo | null>>();
  const containers = new Map<string, Promise<ContainerInfo | null>>();
  let all: Promise<ImageInfo[]> | undefined;
  const image = (ref: string): Promise<ImageInfo | null> => {
    let p = images.get(ref);
    if (!p) images.set(ref, (p = engine.image(ref)));
    return p;
  };
  return {
    image,
    container(ref) {
      let p = containers.get(ref);
      if (!p) containers.set(ref, (p = engine.container(ref)));
      return p;
    },
    allImages() {
      all ??= (async () => {
        const tags = [...new Set(await engine.imageTags())];
        const infos = await Promise.all(tags.map(image));
        const byId = new Map<string, ImageInfo>();
        for (const info of infos) if (info && !byId.has(info.id)) byId.set(info.id, info);
        return [...byId.values()];
      })();
      return all;
    },
  };
}

export const code = (s: string): string => '`' + s + '`';
export const quote = (s: string): string => `“${s}”`;

/**
 * Appends our hint to a failing message. The author's `hint:` is not in the message: the page shows
 * it apart, once the step has failed twice or the learner is stuck (server/hints).
 */
export function failing(_spec: CheckSpec, actual: string, expected: string, what: string, defaultHint?: string, expectedInMessage = expected): Verdict {
  const hint = defaultHint;
  return { status: 'fail', actual, expected, message: `${what}; this step expects ${expectedInMessage}${hint ? ` — ${hint}` : '.'}` };
}

export function passing(actual: string, expected: string, message: string): Verdict {
  return { status: 'pass', actual, expected, message };
}

export function noImage(spec: CheckSpec & { image: string }, expected: string): Verdict {
  return {
    status: 'fail',
    actual: 'no such image',
    expected,
    message: `No image named ${spec.image} yet — run the build block above.`,
  };
}

export function noContainer(spec: CheckSpec & { container: string }, expected: string): Verdict {
  return {
    status: 'fail',
    actual: 'no such container',
    expected,
    message: `No container named ${spec.container} yet — run the \`docker run\` block above.`,
  };
}

export function authorError(expected: string, message: string): Verdict {
  return { status: 'fail', actual: 'malformed check', expected, message, problem: 'author' };
}

export function badPattern(spec: CheckSpec, pattern: string, expected: string, err: unknown): Verdict {
  const why = err instanceof Error ? err.message.replace(/^Invalid regular expression: /, '') : String(err);
  return authorError(
    expected,
    `This check's pattern ${code(pattern)} is not a valid regular expression (${why}). Lab author: fix it at line ${spec.line} of lab.md.`,
  );
}

export function bounds(min: number | undefined, max: number | undefined, fmt: (n: number) => string): string {
  if (min !== undefined && max !== undefined) return min === max ? `exactly ${fmt(min)}` : `between ${fmt(min)} and ${fmt(max)}`;
  if (max !== undefined) return `at most ${fmt(max)}`;
  if (min !== undefined) return `at least ${fmt(min)}`;
  return 'any';
}


/** Reads a file from the sandbox. exit 2 = missing, 3 = not a regular file. */
export async function readSandboxFile(ctx: CheckContext, file: string, timeoutMs: number): Promise<{ ok: true; text: string; truncated: boolean } | { ok: false; why: 'missing' | 'not-a-file' | 'error'; detail: string }> {
  const r = await ctx.exec(
    ['sh', '-c', 'if [ ! -e "$1" ]; then exit 2; elif [ ! -f "$1" ]; then exit 3; fi; head -c "$2" -- "$1"', 'read', file, String(MAX_FILE_BYTES + 1)],
    { timeoutMs },
  );
  if (r.timedOut) throw new CheckTimeout();
  if (r.exitCode === 2) return { ok: false, why: 'missing', detail: '' };
  if (r.exitCode === 3) return { ok: false, why: 'not-a-file', detail: '' };
  if (r.exitCode !== 0) return { ok: false, why: 'error', detail: clip(r.stderr || `exit code ${r.exitCode}`) };
  const truncated = Buffer.byteLength(r.stdout) > MAX_FILE_BYTES;
  return { ok: true, text: r.stdout, truncated };
}

