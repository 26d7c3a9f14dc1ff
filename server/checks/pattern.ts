// How a check's pattern (`matches:`, `output_matches:`) is read. One reading, used both by the lab
// parser to validate it and by the evaluator to match with it, so a pattern that passes
// `labs:check` means the same thing in the sandbox.
//
//   "/re/flags"  flags from i, m, s, u (each at most once): the regex `re` with exactly those flags.
//   anything else: the text as written is the regex, multiline (^ and $ at each line). So "/app/bin",
//                  "/x/g" or an escaped literal from `contains:` stay the text they spell.
// g and y are left out on purpose: they make RegExp.test stateful, so one check would pass every other time.

/** The flags an author may put after a /re/ pattern. */
export const PATTERN_FLAGS = 'imsu';

/** The flags of a pattern written without slashes. */
const DEFAULT_FLAGS = 'm';

export interface PatternSource {
  source: string;
  flags: string;
  /** Written as /re/flags. */
  delimited: boolean;
}

const DELIMITED = /^\/(.+)\/([a-z]*)$/s;

export function readPattern(pattern: string): PatternSource {
  const m = DELIMITED.exec(pattern);
  if (m && safeFlags(m[2]!)) return { source: m[1]!, flags: m[2]!, delimited: true };
  return { source: pattern, flags: DEFAULT_FLAGS, delimited: false };
}

function safeFlags(flags: string): boolean {
  return [...flags].every((f, i) => PATTERN_FLAGS.includes(f) && flags.indexOf(f) === i);
}

/** Throws SyntaxError when the regex is invalid. */
export function compilePattern(pattern: string): RegExp {
  const p = readPattern(pattern);
  return new RegExp(p.source, p.flags);
}

/** Why a pattern cannot be compiled, in the engine's words without its prefix; null when it compiles. */
export function patternError(pattern: string): string | null {
  try {
    compilePattern(pattern);
    return null;
  } catch (e) {
    return (e as Error).message.replace(/^Invalid regular expression: (\/.*\/[a-z]*: )?/s, '');
  }
}

/** The pattern as an author reads it: "/re/flags" as written, anything else between slashes. */
export function showPattern(pattern: string): string {
  return readPattern(pattern).delimited ? pattern : `/${pattern}/`;
}
