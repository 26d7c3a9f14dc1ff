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

/**
 * A size and a limit worded so they never look equal when they differ: when both round to the same
 * three digits (20.04 MB vs 20 MB), the exact byte counts are shown.
 */
export function sizePair(actual: number, limit: number): [string, string] {
  const a = humanSize(actual);
  const l = humanSize(limit);
  if (a === l && actual !== limit) return [`${a} (${actual.toLocaleString('en-US')} bytes)`, `${l} (${limit.toLocaleString('en-US')} bytes)`];
  return [a, l];
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
