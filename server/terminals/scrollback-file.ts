// Terminal output kept on disk for replay after a server restart. Each chunk is appended as it
// arrives (a killed process loses nothing the kernel already has) through one open descriptor,
// not an open/write/close per chunk; the file is rewritten to its tail when it grows past twice
// the limit.
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
  let size = 0;
  try {
    size = fs.statSync(file).size;
  } catch {
    // no file yet
  }
  const tail = (s: string) => (s.length > limit ? s.slice(s.length - limit) : s);
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
  const load = (): string => {
    try {
      return tail(fs.readFileSync(file, 'utf8'));
    } catch {
      return '';
    }
  };
  return {
    load,
    append(data) {
      const buf = Buffer.from(data, 'utf8');
      if (size + buf.length > limit * 2) {
        // Keep a tail of the bytes already written plus the new chunk, cut at a char boundary.
        const kept = tail(load() + data);
        close();
        fs.writeFileSync(file + '.tmp', kept);
        fs.renameSync(file + '.tmp', file);
        size = Buffer.byteLength(kept);
        return;
      }
      fd ??= fs.openSync(file, 'a');
      fs.writeSync(fd, buf);
      size += buf.length;
    },
    close,
    remove() {
      close();
      fs.rmSync(file, { force: true });
    },
  };
}
