// kramdown compatibility for a fence inside a list item whose lines sit left of the item's text:
//
//   4. Add the capability back:
//
//      ```.term1
//       docker run --rm --cap-add chown alpine chown nobody /
//     ```              <- two spaces, the item's text starts at three
//
// kramdown reads the shallower line as a lazy line of the item and closes the fence there. CommonMark
// (markdown-it) ends the list item at it instead: the fence runs to the end of the item and the stray
// ``` opens a new fence that swallows the text, headings and run blocks after it. Jekyll rendered such
// posts for years, so before markdown-it sees the text we indent those lines to the item's text, which
// both readings agree on, and warn the author. Only indentation changes, so every line keeps its number.
import type { Note } from './state.ts';

/** "1. ", "- ", "* ", "+ ", "12) " with the text after it: where the item's text starts. */
const LIST_MARKER = /^( *)([-*+]|\d{1,9}[.)])( {1,4})(?=\S)/;
const FENCE_OPEN = /^( *)(`{3,}|~{3,})(.*)$/;

const indentOf = (line: string): number => /^ */.exec(line)![0].length;

export function alignListFences(src: string): { src: string; warnings: Note[] } {
  const original = src.split('\n');
  const lines = [...original];
  const warnings: Note[] = [];
  /** Column where the text of the list item we are in starts, or null outside lists. */
  let itemIndent: number | null = null;
  let afterBlank = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') {
      afterBlank = true;
      continue;
    }
    const indent = indentOf(line);
    const marker = LIST_MARKER.exec(line);
    if (marker) itemIndent = marker[1]!.length + marker[2]!.length + marker[3]!.length;
    else if (itemIndent !== null && indent < itemIndent && afterBlank) itemIndent = null; // the list ended
    afterBlank = false;

    const open = FENCE_OPEN.exec(line);
    if (!open || (open[2]![0] === '`' && open[3]!.includes('`'))) continue;
    if (indent >= (itemIndent ?? 0) + 4) continue; // indented code, not a fence
    const char = open[2]![0]!;
    const close = new RegExp(`^ *\\${char}{${open[2]!.length},}\\s*$`);
    let end = i + 1;
    while (end < lines.length && !close.test(lines[end]!)) end++;
    if (end >= lines.length) {
      i = lines.length; // never closed: render.ts reports it as markdown-it reads it
      break;
    }
    const c = itemIndent;
    // A fence inside the item; one at column 0 is outside it for both readers.
    if (c !== null && !marker && indent > 0) {
      const shallow: number[] = [];
      for (let l = i; l <= end; l++) if (lines[l]!.trim() !== '' && indentOf(lines[l]!) < c) shallow.push(l);
      if (shallow.length > 0) {
        for (const l of shallow) lines[l] = ' '.repeat(c - indentOf(lines[l]!)) + lines[l];
        const first = shallow[0]!;
        warnings.push({
          line: first + 1,
          message:
            `${first === end ? `the code block opened at line ${i + 1} is closed` : first === i ? 'this code block opens' : `line ${first + 1} of the code block opened at line ${i + 1} is`} ` +
            `${indentOf(original[first]!)} spaces in, left of its list item's text (${c}); it was read as kramdown reads it, inside the item: indent it ${c} spaces`,
        });
      }
    }
    i = end;
    afterBlank = false;
  }
  return { src: lines.join('\n'), warnings };
}
