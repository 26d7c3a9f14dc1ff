// Human wording shared by every check: sizes as `docker images` shows them, names in backticks, plurals.

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];

/** Bytes in decimal units with three significant digits, like the Docker CLI (1 MB = 1000*1000 bytes), but spaced: "867 MB". */
export function humanSize(bytes: number): string {
  let size = bytes;
  let i = 0;
  while (size >= 1000 && i < UNITS.length - 1) {
    size /= 1000;
    i++;
  }
  return `${Number(size.toPrecision(3))} ${UNITS[i]}`;
}

export function plural(n: number, one: string, many = one + 's'): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Shortens long text for a message, keeping its start. */
export function clip(text: string, max = 80): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length <= max ? t : t.slice(0, max - 1) + '…';
}

export function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(2))} s`;
}

const UNIT_BYTES: Record<string, number> = { B: 1, kB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, PB: 1e15 };

/** humanSize(n) when it names n exactly ("20 MB" for 20_000_000), else undefined. */
export function exactSize(bytes: number): string | undefined {
  const h = humanSize(bytes);
  const [num, unit] = h.split(' ');
  return Math.round(Number(num) * UNIT_BYTES[unit!]!) === bytes ? h : undefined;
}

/**
 * A size bound as an author wrote it. The lab parser turns "< 20 MB" into at most 19,999,999 bytes and
 * "> 500 MB" into at least 500,000,001; those read back as "under 20 MB" and "over 500 MB".
 */
export function sizeBound(kind: 'max' | 'min', bytes: number): string {
  if (kind === 'max') {
    const exact = exactSize(bytes);
    if (exact) return `at most ${exact}`;
    const strict = exactSize(bytes + 1);
    return strict ? `under ${strict}` : `at most ${humanSize(bytes)}`;
  }
  const exact = exactSize(bytes);
  if (exact) return `at least ${exact}`;
  const strict = exactSize(bytes - 1);
  return strict ? `over ${strict}` : `at least ${humanSize(bytes)}`;
}
