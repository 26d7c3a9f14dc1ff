// A dtach client clears the screen when it attaches. That would wipe the scrollback the page has
// just replayed, so the exec transport (the sandbox's own dtach client) drops the clear from the start
// of the output. The local transport (dtach-socket.ts) is no such client: the master sends no clear.
export const ATTACH_CLEAR = '\x1b[H\x1b[J';
/** The clear comes first; give up looking after this many chars. */
const HEAD_SCAN = 64;

export interface AttachClearFilter {
  push(data: string): void;
  /** The attach is over (or failed): pass on whatever is still held. */
  flush(): void;
}

/** Holds the first few chars until the clear is found (and dropped) or cannot come any more. */
export function createAttachClearFilter(out: (data: string) => void): AttachClearFilter {
  let head: string | null = '';
  const flush = () => {
    if (head === null) return;
    const at = head.indexOf(ATTACH_CLEAR);
    const rest = at === -1 ? head : head.slice(0, at) + head.slice(at + ATTACH_CLEAR.length);
    head = null;
    out(rest); // even when empty: it tells the terminal the attach is through
  };
  return {
    push(data) {
      if (head === null) return out(data);
      head += data;
      if (head.includes(ATTACH_CLEAR) || head.length >= HEAD_SCAN) flush();
    },
    flush,
  };
}
