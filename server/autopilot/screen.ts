// A small terminal emulator for transcripts: enough of VT100 to replay what bash and readline print
// (CR, LF, backspace, tab, cursor left/right/up/down, erase in line and display) into the lines a
// screen would show. Readline redraws a multi-line paste by moving the cursor up and rewriting it;
// merely stripping the escapes would glue those redraws onto the previous lines.

const TOKEN = /\x1b\[([0-?]*)[ -/]*([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[PX^_][^\x1b]*\x1b\\|\x1b[ -/]*[0-~]|([\x00-\x1f\x7f])|([^\x00-\x1f\x7f\x1b]+)/g;

export function renderScreen(raw: string, cols = 160): string[] {
  const lines: string[][] = [[]];
  let row = 0;
  let col = 0;
  const line = (): string[] => (lines[row] ??= []);
  const moveTo = (r: number) => {
    row = Math.max(0, r);
    while (lines.length <= row) lines.push([]);
  };
  for (const m of raw.matchAll(TOKEN)) {
    const [, params, final, ctrl, text] = m;
    if (text !== undefined) {
      for (const ch of text) {
        if (col >= cols) {
          moveTo(row + 1);
          col = 0;
        }
        const l = line();
        while (l.length < col) l.push(' ');
        l[col++] = ch;
      }
    } else if (ctrl !== undefined) {
      if (ctrl === '\r') col = 0;
      else if (ctrl === '\n') moveTo(row + 1);
      else if (ctrl === '\b') col = Math.max(0, col - 1);
      else if (ctrl === '\t') col = Math.min(cols - 1, (Math.floor(col / 8) + 1) * 8);
    } else if (final !== undefined) {
      const n = Number((params ?? '').split(';')[0]) || 0;
      const count = Math.max(1, n);
      switch (final) {
        case 'A': moveTo(row - count); break;
        case 'B': moveTo(row + count); break;
        case 'C': col = Math.min(cols - 1, col + count); break;
        case 'D': col = Math.max(0, col - count); break;
        case 'G': col = Math.min(cols - 1, count - 1); break;
        case 'K': {
          const l = line();
          if (n === 0) l.length = Math.min(l.length, col);
          else if (n === 1) for (let i = 0; i <= col && i < l.length; i++) l[i] = ' ';
          else l.length = 0;
          break;
        }
        case 'J':
          if (n === 0) {
            line().length = Math.min(line().length, col);
            lines.length = row + 1;
          } else if (n === 2 || n === 3) {
            lines.length = 0;
            lines.push([]);
            row = 0;
            col = 0;
          }
          break;
        default: // colours (m), modes (h/l) and the rest do not move text
      }
    }
  }
  return lines.map((l) => l.join('').trimEnd());
}
