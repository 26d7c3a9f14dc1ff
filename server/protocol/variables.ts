// A lab's variables ($$name$$, from a Docker Labspace): names, the values a learner may give them,
// and the conditions a :::conditionalDisplay tests. Pure and shared: the server renders and stores
// with it, the page checks input and shows or hides with it, so both sides agree on every rule.

/** A variable's name: what $$name$$ may hold. */
export const VARIABLE_NAME = /^[A-Za-z_][\w-]{0,63}$/;
/** Longest value a learner may set: a name, a tag, a URL. It is typed into a shell, not a file. */
export const MAX_VARIABLE_CHARS = 500;
/** Most variables one lab may declare (bounds what a learner can make the server store). */
export const MAX_VARIABLES = 50;
/** $$name$$ in text, the name captured. */
export const VARIABLE_REF = /\$\$([A-Za-z_][\w-]{0,63})\$\$/g;

export type VariableValues = Record<string, string>;

/** Why a value cannot be used, in a sentence for the learner; undefined when it can. */
export function valueProblem(name: string, value: unknown): string | undefined {
  if (typeof value !== 'string') return `The value of ${name} must be text.`;
  if (value.length > MAX_VARIABLE_CHARS) return `The value of ${name} is ${value.length.toLocaleString('en')} characters long; a value may have at most ${MAX_VARIABLE_CHARS}.`;
  // It is typed into a terminal: a line break would run half a command, an escape would drive the screen.
  // eslint-disable-next-line no-control-regex
  const bad = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.exec(value);
  if (bad) return `The value of ${name} contains a control character (${describeChar(bad[0])}); a value is one line of plain text.`;
  return undefined;
}

function describeChar(c: string): string {
  const names: Record<string, string> = { '\n': 'a line break', '\r': 'a carriage return', '\t': 'a tab', '\u001b': 'an escape' };
  return names[c] ?? `U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Checks a set of assignments against the lab's declared variables. Returns the accepted values,
 * or the first problem: an unknown name, a bad value, too many at once.
 */
export function checkAssignments(values: unknown, declared: ReadonlySet<string> | readonly string[]): { ok: true; values: VariableValues } | { ok: false; message: string } {
  const known = declared instanceof Set ? declared : new Set(declared as readonly string[]);
  if (!values || typeof values !== 'object' || Array.isArray(values)) return { ok: false, message: 'Variables must be sent as name → value pairs.' };
  const entries = Object.entries(values as Record<string, unknown>);
  if (entries.length === 0) return { ok: false, message: 'No variable was given.' };
  if (entries.length > MAX_VARIABLES) return { ok: false, message: `At most ${MAX_VARIABLES} variables can be set at once.` };
  const out: VariableValues = {};
  for (const [name, value] of entries) {
    if (!VARIABLE_NAME.test(name) || !known.has(name)) return { ok: false, message: `This lab has no variable called "${name.slice(0, 64)}".` };
    const problem = valueProblem(name, value);
    if (problem) return { ok: false, message: problem };
    out[name] = value as string;
  }
  return { ok: true, values: out };
}

/** "a=1,b=2" (a variableSetButton's list) → pairs; a value may contain "=", not ",". */
export function parseAssignments(list: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const part of list.split(',')) {
    const at = part.indexOf('=');
    if (at < 0) continue;
    out.push([part.slice(0, at).trim(), part.slice(at + 1).trim()]);
  }
  return out;
}

/** What a :::conditionalDisplay asks of one variable. */
export type VariableCondition =
  | { variable: string; test: 'equals'; value: string }
  | { variable: string; test: 'set' }
  | { variable: string; test: 'unset' };

/** Does the condition hold for these values (a variable without a value is unset)? */
export function conditionHolds(c: VariableCondition, values: VariableValues): boolean {
  const v = values[c.variable] ?? '';
  if (c.test === 'equals') return v === c.value;
  if (c.test === 'set') return v !== '';
  return v === '';
}

/** `text` with each $$name$$ of a known variable replaced by its value; others stay as written. */
export function substituteVariables(text: string, values: VariableValues): string {
  return text.replace(VARIABLE_REF, (m, name: string) => (Object.hasOwn(values, name) ? values[name]! : m));
}
