// A lab's variables on the server side: the front matter's `variables:` (name → default) read and
// checked, and $$name$$ in the rendered page marked so the page can show each learner's own value.
import { MAX_VARIABLES, VARIABLE_NAME, VARIABLE_REF, valueProblem, type VariableValues } from '../protocol/variables.ts';
import type { Note } from './state.ts';

/** `variables:` of the front matter → defaults; bad entries are dropped with a warning. */
export function readVariables(raw: unknown): { defaults?: VariableValues; warnings: Note[] } {
  const warnings: Note[] = [];
  if (raw === undefined || raw === null) return { warnings };
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    warnings.push({ line: 1, message: 'variables: must map each name to its default (variables: { name: default }); ignored' });
    return { warnings };
  }
  const defaults: VariableValues = {};
  for (const [name, v] of Object.entries(raw as Record<string, unknown>)) {
    if (Object.keys(defaults).length >= MAX_VARIABLES) {
      warnings.push({ line: 1, message: `variables: more than ${MAX_VARIABLES}; "${name}" and the rest are ignored` });
      break;
    }
    if (!VARIABLE_NAME.test(name)) {
      warnings.push({ line: 1, message: `variables: "${name.slice(0, 80)}" is not a variable name (a letter or _, then letters, digits, _ or -); ignored` });
      continue;
    }
    const value = v === null || v === undefined ? '' : typeof v === 'object' ? undefined : String(v);
    const problem = value === undefined ? `The default of ${name} must be text.` : valueProblem(name, value);
    if (problem) warnings.push({ line: 1, message: `variables: ${problem} It starts empty.` });
    defaults[name] = problem ? '' : value!;
  }
  return { defaults, warnings };
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * Each $$name$$ of a declared variable in the page's text (never inside a tag: an attribute keeps
 * what the author wrote) becomes a span holding its value, escaped. The page swaps in the learner's
 * own value; a run block's text is what gets typed, so the shell receives exactly what is shown.
 */
export function markVariables(html: string, values: VariableValues): string {
  return html
    .split(/(<[^>]*>)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(VARIABLE_REF, (m, name: string) => (Object.hasOwn(values, name) ? `<span class="lab-var" data-lab-var="${name}">${esc(values[name]!)}</span>` : m))))
    .join('');
}
