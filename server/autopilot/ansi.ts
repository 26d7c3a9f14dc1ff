// Terminal output → plain text, for matching prompts and for transcripts.

// CSI (ESC [ … final), OSC (ESC ] … BEL or ESC \), other two-byte escapes (ESC ( B, ESC =, …), and 8-bit CSI.
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[PX^_][^\x1b]*\x1b\\|\x1b[ -/]*[0-~]|\x9b[0-?]*[ -/]*[@-~]/g;

/** Removes escape sequences, BELs and other control characters except newline, carriage return and tab. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, '').replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g, '');
}
