// Validation of terminal messages from the browser. Pure.
import { TUNING } from '../config.ts';

/** Terminal indexes are 1..6 (the most a lab may declare). */
export function validTerm(term: unknown): term is number {
  return typeof term === 'number' && Number.isInteger(term) && term >= 1 && term <= 6;
}

/** Clamps a resize into sane bounds; a 0x0 or NaN resize becomes the minimum, never an error. */
export function clampSize(cols: unknown, rows: unknown): { cols: number; rows: number } | undefined {
  if (typeof cols !== 'number' || typeof rows !== 'number') return undefined;
  const c = Number.isFinite(cols) ? Math.floor(cols) : TUNING.minCols;
  const r = Number.isFinite(rows) ? Math.floor(rows) : TUNING.minRows;
  return {
    cols: Math.min(TUNING.maxCols, Math.max(TUNING.minCols, c)),
    rows: Math.min(TUNING.maxRows, Math.max(TUNING.minRows, r)),
  };
}
