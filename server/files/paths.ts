// Pure rules for the editor, uploads and downloads: which paths a learner may name, what counts as
// a text file, how the sandbox's answers are parsed. The sandbox side (realpath inside the sandbox,
// so symlinks are resolved where they live) is in sandbox-files.ts.
import { AppError } from '../errors.ts';

/** The learner's files live here; nothing outside it is listed, read, written or uploaded to. */
export const FILES_ROOT = '/root';

export const FILE_LIMITS = {
  /** The editor opens files up to this size; bigger ones can still be downloaded. */
  maxEditBytes: 1024 * 1024,
  /** A folder listing stops here (a node_modules with 50 000 entries must not freeze the page). */
  maxListEntries: 2_000,
  maxPathBytes: 4096,
} as const;

/**
 * A path relative to /root as typed or clicked by the learner ("", "app/main.go"), cleaned.
 * Refuses absolute paths, any ".." segment and control characters outright: a path string is never
 * trusted to stay inside /root by itself, and symlinks are checked again inside the sandbox.
 */
export function confinePath(raw: unknown): string {
  if (typeof raw !== 'string') throw new AppError('bad_request', 'Name a file or folder under /root.');
  if (Buffer.byteLength(raw) > FILE_LIMITS.maxPathBytes) throw new AppError('bad_request', 'That path is too long.');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(raw)) throw new AppError('bad_request', 'That path has control characters in it.');
  if (raw.startsWith('/')) throw new AppError('forbidden', `Paths are relative to ${FILES_ROOT}; "${raw}" is absolute.`);
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) throw new AppError('forbidden', `"${raw}" climbs out of ${FILES_ROOT} with "..": only files under ${FILES_ROOT} can be opened.`);
  if (parts.some((p) => Buffer.byteLength(p) > 255)) throw new AppError('bad_request', 'A name in that path is longer than 255 bytes.');
  return parts.join('/');
}

/** Whether a path the sandbox resolved (symlinks followed) is still inside /root. */
export function insideRoot(resolved: string): boolean {
  return resolved === FILES_ROOT || resolved.startsWith(FILES_ROOT + '/');
}

export function baseName(rel: string): string {
  return rel === '' ? 'root' : rel.slice(rel.lastIndexOf('/') + 1);
}

export function parentOf(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i < 0 ? '' : rel.slice(0, i);
}

/** Text the editor can show: valid UTF-8 without NUL bytes. */
export function isText(buf: Buffer): boolean {
  if (buf.subarray(0, 8192).includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(buf);
    return true;
  } catch {
    return false;
  }
}

export interface FileEntry {
  name: string;
  type: 'file' | 'dir' | 'link' | 'other';
  size: number;
  /** Epoch ms. */
  mtime: number;
}

/** `find -printf '%y\t%s\t%T@\t%f\0'` output: folders first, then by name. */
export function parseListing(out: string): FileEntry[] {
  const types: Record<string, FileEntry['type']> = { f: 'file', d: 'dir', l: 'link' };
  return out
    .split('\0')
    .filter(Boolean)
    .map((rec) => {
      const [y, size, mtime, ...name] = rec.split('\t');
      return { name: name.join('\t'), type: types[y ?? ''] ?? 'other', size: Number(size) || 0, mtime: Math.round(Number(mtime) * 1000) || 0 };
    })
    .filter((e) => e.name && !e.name.includes('\n'))
    .sort((a, b) => (a.type === 'dir' ? 0 : 1) - (b.type === 'dir' ? 0 : 1) || a.name.localeCompare(b.name));
}

/** Content-Disposition for a download, with a plain fallback name and the UTF-8 one (RFC 6266). */
export function attachment(name: string): string {
  const plain = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${plain}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/** TCP ports in LISTEN state from /proc/net/tcp and tcp6 (what `ss -ltn` shows), sorted, unique. */
export function listeningPorts(procNetTcp: string): number[] {
  const ports = new Set<number>();
  for (const line of procNetTcp.split('\n')) {
    const f = line.trim().split(/\s+/);
    // sl local_address rem_address st ...; st 0A is LISTEN
    if (f.length < 4 || f[3] !== '0A') continue;
    const [addr, hexPort] = f[1]!.split(':');
    // 127.0.0.11 is Docker's embedded DNS for the session network, not something the learner runs.
    if (addr === '0B00007F') continue;
    const port = parseInt(hexPort ?? '', 16);
    if (port > 0 && port < 65536) ports.add(port);
  }
  return [...ports].sort((a, b) => a - b);
}
