// <details><summary>…</summary> … </details>: folded solution dropdowns (Killercoda scenarios and
// many PWD posts use them). Labs render with html: false, so this block rule recognises exactly
// these three tags, each alone on its line, and nothing else of HTML; the body stays Markdown.
import type { MarkdownIt, StateBlock } from 'markdown-it';

const OPEN = /^<details>\s*$/i;
const SUMMARY = /^<summary>(.*)<\/summary>\s*$/i;
const CLOSE = /^<\/details>\s*$/i;

function lineText(state: StateBlock, line: number): string {
  return state.src.slice(state.bMarks[line]! + state.tShift[line]!, state.eMarks[line]!);
}

function detailsBlock(state: StateBlock, startLine: number, endLine: number, silent: boolean): boolean {
  if (state.sCount[startLine]! - state.blkIndent >= 4) return false;
  if (!OPEN.test(lineText(state, startLine))) return false;
  // Find the matching close, counting nested <details>.
  let depth = 1;
  let close = -1;
  for (let l = startLine + 1; l < endLine; l++) {
    const text = lineText(state, l);
    if (OPEN.test(text)) depth++;
    else if (CLOSE.test(text) && --depth === 0) {
      close = l;
      break;
    }
  }
  if (close < 0) return false;
  if (silent) return true;

  let bodyStart = startLine + 1;
  while (bodyStart < close && lineText(state, bodyStart).trim() === '') bodyStart++;
  const summary = bodyStart < close ? SUMMARY.exec(lineText(state, bodyStart)) : null;
  if (summary) bodyStart++;

  const open = state.push('lab_details_open', 'details', 1);
  open.block = true;
  open.map = [startLine, close + 1];
  const sum = state.push('lab_summary', 'summary', 0);
  sum.content = summary ? summary[1]!.trim() : 'Show';
  sum.children = [];
  state.md.inline.parse(sum.content, state.md, state.env, sum.children);

  const oldParent = state.parentType;
  const oldLineMax = state.lineMax;
  state.parentType = 'blockquote' as StateBlock['parentType'];
  state.lineMax = close;
  state.md.block.tokenize(state, bodyStart, close);
  state.parentType = oldParent;
  state.lineMax = oldLineMax;

  const end = state.push('lab_details_close', 'details', -1);
  end.block = true;
  state.line = close + 1;
  return true;
}

export function detailsPlugin(md: MarkdownIt): void {
  md.block.ruler.before('html_block', 'lab_details', detailsBlock, { alt: ['paragraph', 'reference', 'blockquote', 'list'] });
  md.renderer.rules.lab_details_open = () => '<details class="lab-details">\n';
  md.renderer.rules.lab_summary = (tokens, idx, options, env) => `<summary>${md.renderer.renderInline(tokens[idx]!.children ?? [], options, env)}</summary>\n`;
  md.renderer.rules.lab_details_close = () => '</details>\n';
}
