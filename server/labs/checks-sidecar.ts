// checks.yaml beside an imported lab: our declarative checks added to its steps without editing it.
//
//   "Running Containers":        # a step by its title (case and spaces ignored)…
//     - container: web
//       state: running
//   3:                           # …or by its number, counting the lab's own sections from 1
//     - image: getting-started
//
// Pure: the importer's Markdown in, the same Markdown with a ```check fence at the end of each named
// step out. Each step's list is parsed here first, so a mistake is reported at its line in checks.yaml.
import YAML, { isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import { parseChecks } from './checks.ts';
import { fence, type ImportNote } from './importer.ts';

export const SIDECAR = 'checks.yaml';

export interface SidecarResult {
  markdown: string;
  problems: ImportNote[];
  warnings: ImportNote[];
}

/** The "## " step headings of our Markdown outside fences: their line indexes and titles. */
function stepHeadings(lines: string[]): Array<{ at: number; title: string }> {
  const out: Array<{ at: number; title: string }> = [];
  let fenceMark: string | null = null;
  lines.forEach((l, i) => {
    const f = /^\s*(`{3,}|~{3,})/.exec(l);
    if (f) {
      if (fenceMark === null) fenceMark = f[1]!;
      else if (f[1]![0] === fenceMark[0] && f[1]!.length >= fenceMark.length && /^\s*[`~]+\s*$/.test(l)) fenceMark = null;
      return;
    }
    if (fenceMark === null && /^##\s/.test(l)) out.push({ at: i, title: l.replace(/^##\s+/, '').trim() });
  });
  return out;
}

const norm = (s: string) => s.toLowerCase().replace(/\s+/g, ' ').trim();

export function applyChecksSidecar(markdown: string, sidecar: string | undefined): SidecarResult {
  const problems: ImportNote[] = [];
  const warnings: ImportNote[] = [];
  if (sidecar === undefined) return { markdown, problems, warnings };
  const counter = new LineCounter();
  const doc = parseDocument(sidecar, { lineCounter: counter });
  const lineOf = (offset: number | undefined) => (offset === undefined ? 1 : counter.linePos(offset).line);
  if (doc.errors.length) {
    for (const e of doc.errors) problems.push({ file: SIDECAR, line: lineOf(e.pos[0]), message: `not valid YAML: ${e.message.split('\n')[0]}` });
    return { markdown, problems, warnings };
  }
  if (!isMap(doc.contents)) {
    if (doc.contents !== null) problems.push({ file: SIDECAR, line: 1, message: 'checks.yaml maps step titles (or numbers) to lists of checks' });
    return { markdown, problems, warnings };
  }
  const lines = markdown.split('\n');
  const steps = stepHeadings(lines);
  const additions = new Map<number, string[]>();
  for (const pair of doc.contents.items) {
    const keyNode = pair.key;
    const key = isScalar(keyNode) ? keyNode.value : undefined;
    const line = lineOf(isScalar(keyNode) ? keyNode.range?.[0] : undefined);
    let index = -1;
    if (typeof key === 'number' || (typeof key === 'string' && /^\d+$/.test(key))) index = Number(key) - 1;
    else if (typeof key === 'string') index = steps.findIndex((s) => norm(s.title) === norm(key));
    if (index < 0 || index >= steps.length) {
      const titles = steps.map((s, i) => `${i + 1}. ${s.title}`).join('; ');
      warnings.push({ file: SIDECAR, line, message: `"${String(key)}" is not a step of this lab (its steps: ${titles || 'none'}); these checks are left out` });
      continue;
    }
    // The step's list as YAML text, parsed by the same parser as a lab.md check block, at its own lines.
    const value = pair.value as { range?: [number, number, number] } | null;
    const start = value?.range?.[0] ?? 0;
    const startLine = lineOf(start);
    const text = sidecar.slice(sidecar.lastIndexOf('\n', start - 1) + 1, value?.range?.[1] ?? start);
    const dedented = dedent(text);
    const parsed = parseChecks(dedented, startLine);
    if (parsed.problems.length) {
      problems.push(...parsed.problems.map((p) => ({ file: SIDECAR, line: p.line, message: p.message })));
      continue;
    }
    const list = (additions.get(index) ?? []);
    list.push(dedented);
    additions.set(index, list);
  }
  // Insert from the last step up, so earlier line indexes stay right.
  for (const [index, texts] of [...additions].sort((a, b) => b[0] - a[0])) {
    const end = steps[index + 1]?.at ?? lines.length;
    lines.splice(end, 0, '', fence('check', texts.map((t) => YAML.stringify(YAML.parse(t), { lineWidth: 0 }).trimEnd()).join('\n')), '');
  }
  return { markdown: lines.join('\n'), problems, warnings };
}

function dedent(text: string): string {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length));
  return lines.map((l) => l.slice(Number.isFinite(indent) ? indent : 0)).join('\n').trimEnd();
}
