// Liquid, as far as Play-With-Docker posts use it. Jekyll runs Liquid over the whole file before
// Markdown, so this is a pass over the source text too; it keeps every line where it was, so the
// line numbers of later problems are still the author's.
//   {{ site.baseurl }} / {{ site.url }}  the site root, which for us is the lab folder:
//                                        "{{site.baseurl}}/images/x.png" → "images/x.png"
//   {% raw %} … {% endraw %}             the tags go, the text between is left exactly as written
//   any other {% tag %}                  removed (we have no Jekyll), with a warning
//   any other {{ output }}               shown as written, with a warning
// In code (fences, `spans`) other tags and outputs are left alone without a word: there "{{ .Name }}"
// is a Go template for docker inspect, not Liquid.
import type { Note } from './state.ts';

export interface LiquidResult {
  src: string;
  warnings: Note[];
}

// The "/" after an output is taken along so "{{site.baseurl}}/images" can become "images".
const LIQUID = /\{%-?\s*(\w+)[^%]*?-?%\}|\{\{-?\s*([^{}]*?)\s*-?\}\}(\/?)/g;
const SITE_ROOT = /^site\.(?:base)?url$/;
const FENCE = /^[\s>]*(?:(?:[-*+]|\d+[.)])\s+)?(`{3,}|~{3,})(.*)$/;

/** Input must have LF line endings. */
export function resolveLiquid(src: string): LiquidResult {
  if (!src.includes('{{') && !src.includes('{%')) return { src, warnings: [] };
  const warnings: Note[] = [];
  const roots: number[] = [];
  const raws: number[] = [];
  let inRaw = 0; // line where the open {% raw %} started, 0 when none
  let fence: { ch: string; len: number } | null = null;
  const out = src.split('\n').map((line, i) => {
    const n = i + 1;
    const f = FENCE.exec(line);
    const fenceLine = f !== null && (fence === null ? !(f[1]![0] === '`' && f[2]!.includes('`')) : f[1]![0] === fence.ch && f[1]!.length >= fence.len && f[2]!.trim() === '');
    const inCode = fence !== null || fenceLine;
    if (fenceLine) fence = fence === null ? { ch: f![1]![0]!, len: f![1]!.length } : null;
    if (!line.includes('{')) return line;
    const spans = codeSpans(line);
    return line.replace(LIQUID, (m: string, tag: string | undefined, output: string | undefined, _slash: string, at: number) => {
      if (tag === 'endraw' && inRaw) {
        inRaw = 0;
        return '';
      }
      if (inRaw) return m;
      if (tag === 'raw') {
        inRaw = n;
        raws.push(n);
        return '';
      }
      if (output !== undefined && SITE_ROOT.test(output)) {
        // "{{ site.url }}{{ site.baseurl }}/images/x.png" → "images/x.png": the folder is the root.
        roots.push(n);
        return '';
      }
      if (inCode || spans.some(([a, b]) => at >= a && at < b)) return m;
      if (tag === 'endraw') {
        warnings.push({ line: n, message: '{% endraw %} without a {% raw %} before it was removed' });
        return '';
      }
      if (tag !== undefined) {
        warnings.push({ line: n, message: `Liquid tag ${m} is not supported here and was removed` });
        return '';
      }
      warnings.push({ line: n, message: `Liquid ${m} is not supported here and is shown as written` });
      return m;
    });
  });
  if (roots.length) {
    warnings.push({ line: roots[0]!, message: `{{ site.baseurl }} (${times(roots.length)}) was read as this lab's folder; a plain relative path such as images/x.png says the same without Jekyll` });
  }
  if (raws.length) warnings.push({ line: raws[0]!, message: `{% raw %} … {% endraw %} (${times(raws.length)}) was removed, keeping the text between as written` });
  if (inRaw) warnings.push({ line: inRaw, message: '{% raw %} is never closed by {% endraw %}: everything after it was kept as written' });
  warnings.sort((a, b) => a.line - b.line);
  return { src: out.join('\n'), warnings };
}

function times(n: number): string {
  return n === 1 ? 'once' : `${n} times`;
}

/** [start, end) of each `code span` on one line. */
function codeSpans(line: string): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  const re = /(`+)[\s\S]*?[^`]\1(?!`)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line))) spans.push([m.index, m.index + m[0].length]);
  return spans;
}
