// What a click on a run block types: the browser's xterm.paste() with bracketed paste on, then Enter.

const PASTE_START = '\x1b[200~';
const PASTE_END = '\x1b[201~';

/**
 * The keystrokes for one clicked block. Newlines become CR as xterm sends them; inside a bracketed
 * paste bash inserts them literally, so tabs, here-docs and multi-line strings arrive as written.
 * The end marker is dropped from the code itself so a block cannot end the paste early (xterm does the same).
 */
export function pasteKeys(code: string): string {
  const body = code.replace(/\r?\n/g, '\r').split(PASTE_END).join('');
  return PASTE_START + body + PASTE_END + '\r';
}

/** A probe typed after a block to learn its exit status; the marker never appears in the echo of the probe itself. */
export const STATUS_PROBE = ' echo "AUTOPILOT_RC=$?"\r';
const STATUS_LINE = /AUTOPILOT_RC=(\d+)/;

/** The exit status printed by STATUS_PROBE, or null when it is not in `plain`. */
export function parseStatus(plain: string): number | null {
  const m = STATUS_LINE.exec(plain);
  return m ? Number(m[1]) : null;
}
