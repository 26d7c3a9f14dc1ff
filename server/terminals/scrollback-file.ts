// Terminal output kept on disk for replay after a server restart. Each chunk is appended as it
// arrives (a killed process loses nothing the kernel already has) through one open descriptor,
// not an open/write/close per chunk. Two files take turns: once the current one holds the limit,
// it is renamed over the previous one and a fresh one begins, so the two always hold at least the
// last `limit` chars and nothing is ever read back or rewritten while output flows.
import fs from 'node:fs';
import path from 'node:path';

export interface ScrollbackLog {
  load(): string;
  append(data: string): void;
  /** Releases the open descriptor; a later append opens it again. */
  close(): void;
  remove(): void;
}

export function openScrollbackFile(file: string, limit: number): ScrollbackLog {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const previous = file + '.1';
  /** Chars (as the limit counts them) in the current file; read once, at the first append. */
  let chars: number | null = null;
  let fd: number | null = null;
  const close = () => {
    if (fd === null) return;
    try {
      fs.closeSync(fd);
    } catch {
      // already closed: nothing to release
    }
    fd = null;
  };
  const read = (f: string): string => {
    try {
      return fs.readFileSync(f, 'utf8');
    } catch {
      return '';
    }
  };
  return {
    load() {
      const s = read(previous) + read(file);
      return s.length > limit ? s.slice(s.length - limit) : s;
    },
    append(data) {
      chars ??= read(file).length;
      fd ??= fs.openSync(file, 'a');
      fs.writeSync(fd, data);
      chars += data.length;
      if (chars >= limit) {
        close();
        // Unlinked first, not renamed over: on ext4 a rename that replaces a file flushes the new
        // one's data at once (auto_da_alloc), 2-5x the cost measured here. A kill between the two
        // leaves the current file, which alone holds the limit.
        fs.rmSync(previous, { force: true });
        fs.renameSync(file, previous);
        chars = 0;
      }
    },
    close,
    remove() {
      close();
      fs.rmSync(file, { force: true });
      fs.rmSync(previous, { force: true });
    },
  };
}
