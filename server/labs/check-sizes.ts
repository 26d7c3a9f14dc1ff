// Sizes ("20MB", "< 1.5 GiB"), counts and ranges ("over 500 MB", "1MB..20MB") in check YAML. Pure.

export const UNITS: Record<string, number> = {
  b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9,
  kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3,
};

/** "20MB", "20 MB", "1.5 GiB" → bytes (MB = 1000², as `docker images` shows). A unit is required. */
export function parseSize(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$/i.exec(text);
  if (!m) return null;
  const unit = UNITS[m[2]!.toLowerCase()];
  if (unit === undefined) return null;
  return Math.round(Number(m[1]) * unit);
}

export function parseCount(text: string): number | null {
  const m = /^\s*(\d+)\s*$/.exec(text);
  return m ? Number(m[1]) : null;
}

/**
 * "< 20MB", "<= 20MB", "under 20MB", "at most 20MB", "> 500MB", "over 500MB", "at least 500MB",
 * "1MB..20MB", "between 1MB and 20MB". Bounds are inclusive, so "< X" means at most X-1.
 */
export function parseRange(value: unknown, one: (s: string) => number | null): { min?: number; max?: number } | { error: string } {
  if (typeof value !== 'string') return { error: 'write it as "< 20 MB", "> 500 MB" or "1MB..20MB"' };
  const s = value.trim().toLowerCase();
  const bad = { error: 'write a number with a unit after <, <=, >, >=, under, over, at most or at least, or a range such as 1MB..20MB' };
  let m = /^(<=|<|under|below|at most|max)\s*(.+)$/.exec(s);
  if (m) {
    const v = one(m[2]!);
    if (v === null) return bad;
    return { max: m[1] === '<' || m[1] === 'under' || m[1] === 'below' ? v - 1 : v };
  }
  m = /^(>=|>|over|above|at least|min)\s*(.+)$/.exec(s);
  if (m) {
    const v = one(m[2]!);
    if (v === null) return bad;
    return { min: m[1] === '>' || m[1] === 'over' || m[1] === 'above' ? v + 1 : v };
  }
  m = /^(?:between\s+(.+?)\s+and\s+(.+)|(.+?)\s*\.\.\s*(.+))$/.exec(s);
  if (m) {
    const a = one(m[1] ?? m[3]!);
    const b = one(m[2] ?? m[4]!);
    if (a === null || b === null) return bad;
    if (a > b) return { error: 'the lower bound is above the upper bound' };
    return { min: a, max: b };
  }
  if (one(s) !== null) return { error: `say whether it is a maximum or a minimum: "< ${value.trim()}" or "> ${value.trim()}"` };
  return bad;
}

