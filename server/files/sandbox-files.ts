// Files in a learner's sandbox: list, read, save, upload, download. Every path is cleaned by
// confinePath() and then resolved by `realpath` INSIDE the sandbox, so a symlink that leads out of
// /root is refused where it lives. Bytes go through the host engine (an exec, or the archive API),
// never through a container IP.
import { createHash } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import * as tarStream from 'tar-stream';
import type { SandboxArchive, SandboxDriver, SandboxRef } from '../../sandbox/driver/types.ts';
import { AppError } from '../errors.ts';
import { FILE_LIMITS, FILES_ROOT, baseName, confinePath, insideRoot, isText, parentOf, parseListing, type FileEntry } from './paths.ts';

/** Exit codes of the scripts below, each a sentence for the learner. */
const EXIT = { outside: 66, missing: 67, tooBig: 68, isDir: 69, conflict: 70, notDir: 71 } as const;

/**
 * Resolves $1 (relative to /root) with every symlink followed, inside the sandbox, and refuses
 * anything that lands outside /root. Sets $r.
 */
const RESOLVE = `r=$(realpath -m -- "${FILES_ROOT}/$1") || exit ${EXIT.missing}
case "$r" in ${FILES_ROOT}|${FILES_ROOT}/*) ;; *) printf '%s' "$r" >&2; exit ${EXIT.outside};; esac
`;

const SCRIPTS = {
  list: RESOLVE + `[ -d "$r" ] || exit ${EXIT.notDir}
find "$r" -mindepth 1 -maxdepth 1 -printf '%y\\t%s\\t%T@\\t%f\\0' | head -z -n "$2"`,
  read: RESOLVE + `[ -e "$r" ] || exit ${EXIT.missing}
[ -d "$r" ] && exit ${EXIT.isDir}
s=$(stat -c %s -- "$r"); [ "$s" -le "$2" ] || { printf '%s' "$s"; exit ${EXIT.tooBig}; }
base64 -w0 -- "$r"`,
  version: RESOLVE + `[ -f "$r" ] || exit ${EXIT.missing}
sha256sum < "$r" | cut -c1-64`,
  // $2: the version the editor opened ("" = overwrite whatever is there, after the learner said so).
  write: RESOLVE + `[ -d "$r" ] && exit ${EXIT.isDir}
if [ -n "$2" ]; then cur=$(sha256sum < "$r" 2>/dev/null | cut -c1-64); [ "$cur" = "$2" ] || { printf '%s' "$cur"; exit ${EXIT.conflict}; }; fi
mkdir -p -- "$(dirname -- "$r")" && cat > "$r" && sha256sum < "$r" | cut -c1-64`,
  // $1 the file's path, $2 its folder: both must resolve inside /root; prints the resolved folder.
  prepareUpload: `${RESOLVE}f="$r"; set -- "$2"
${RESOLVE}[ -d "$f" ] && exit ${EXIT.isDir}
mkdir -p -- "$r" || exit ${EXIT.notDir}
r2=$(realpath -e -- "$r") || exit ${EXIT.missing}
case "$r2" in ${FILES_ROOT}|${FILES_ROOT}/*) ;; *) exit ${EXIT.outside};; esac
printf '%s' "$r2"`,
  stat: RESOLVE + `[ -e "$r" ] || exit ${EXIT.missing}
printf '%s\\t%s' "$(stat -c %F -- "$r")" "$r"`,
} as const;

export interface OpenedFile {
  path: string;
  content: string;
  /** sha256 of the bytes: the editor sends it back on save, so a change made meanwhile is noticed. */
  version: string;
}

export interface Download {
  name: string;
  kind: 'file' | 'dir';
  /** For a file: its bytes; for a folder: a tar archive. */
  stream: Readable;
  size?: number;
}

export interface SandboxFiles {
  list(ref: SandboxRef, rel: string): Promise<{ path: string; entries: FileEntry[]; truncated: boolean }>;
  read(ref: SandboxRef, rel: string): Promise<OpenedFile>;
  /** The file's current version, or null when it is gone. */
  version(ref: SandboxRef, rel: string): Promise<string | null>;
  write(ref: SandboxRef, rel: string, content: string, baseVersion: string): Promise<{ version: string }>;
  upload(ref: SandboxRef, rel: string, size: number, body: Readable): Promise<{ path: string }>;
  download(ref: SandboxRef, rel: string): Promise<Download>;
}

export interface SandboxFilesDeps {
  driver: Pick<SandboxDriver, 'exec'>;
  archive: SandboxArchive;
  maxUploadBytes: number;
}

export function createSandboxFiles(deps: SandboxFilesDeps): SandboxFiles {
  async function run(ref: SandboxRef, script: keyof typeof SCRIPTS, args: string[], opts: { stdin?: Buffer; maxOutputBytes?: number } = {}) {
    const r = await deps.driver.exec(ref, ['bash', '-c', SCRIPTS[script], 'lablab-files', ...args], { timeoutMs: 30_000, ...opts });
    if (r.timedOut) throw new AppError('timeout', `node${ref.node} took too long to answer; try again.`);
    return r;
  }

  function fail(rel: string, r: { exitCode: number; stdout: string; stderr: string }, ref: SandboxRef): never {
    const shown = `/root${rel ? '/' + rel : ''}`;
    switch (r.exitCode) {
      case EXIT.outside: throw new AppError('forbidden', `${shown} leads outside ${FILES_ROOT} (to ${r.stderr.trim() || 'elsewhere'}, through a symlink): only files under ${FILES_ROOT} can be opened, saved, uploaded or downloaded.`);
      case EXIT.missing: throw new AppError('not_found', `There is no ${shown} in node${ref.node} (any more?).`);
      case EXIT.isDir: throw new AppError('bad_request', `${shown} is a folder.`);
      case EXIT.notDir: throw new AppError('bad_request', `${shown} is not a folder.`);
      default: throw new AppError('sandbox_failed', `node${ref.node} could not do that with ${shown}: ${(r.stderr || r.stdout).trim().slice(0, 300) || `exit ${r.exitCode}`}`);
    }
  }

  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

  return {
    async list(ref, raw) {
      const rel = confinePath(raw);
      const r = await run(ref, 'list', [rel, String(FILE_LIMITS.maxListEntries + 1)], { maxOutputBytes: 4 * 1024 * 1024 });
      if (r.exitCode !== 0) fail(rel, r, ref);
      const entries = parseListing(r.stdout);
      return { path: rel, entries: entries.slice(0, FILE_LIMITS.maxListEntries), truncated: entries.length > FILE_LIMITS.maxListEntries };
    },

    async read(ref, raw) {
      const rel = confinePath(raw);
      const max = FILE_LIMITS.maxEditBytes;
      const r = await run(ref, 'read', [rel, String(max)], { maxOutputBytes: Math.ceil((max * 4) / 3) + 16 });
      if (r.exitCode === EXIT.tooBig) {
        throw new AppError('bad_request', `${baseName(rel)} is ${(Number(r.stdout) / 1e6).toFixed(1)} MB; the editor opens files up to ${max / (1024 * 1024)} MB. Download it instead, or use vim/nano in the terminal.`);
      }
      if (r.exitCode !== 0) fail(rel, r, ref);
      const bytes = Buffer.from(r.stdout, 'base64');
      if (!isText(bytes)) throw new AppError('bad_request', `${baseName(rel)} is a binary file, so the editor does not open it. You can download it.`);
      return { path: rel, content: bytes.toString('utf8'), version: sha(bytes) };
    },

    async version(ref, raw) {
      const rel = confinePath(raw);
      const r = await run(ref, 'version', [rel]);
      if (r.exitCode === EXIT.missing) return null;
      if (r.exitCode !== 0) fail(rel, r, ref);
      return r.stdout.trim();
    },

    async write(ref, raw, content, baseVersion) {
      const rel = confinePath(raw);
      if (rel === '') throw new AppError('bad_request', 'Name a file to save.');
      const bytes = Buffer.from(content, 'utf8');
      if (bytes.length > FILE_LIMITS.maxEditBytes) throw new AppError('bad_request', `That is ${(bytes.length / 1e6).toFixed(1)} MB; the editor saves files up to ${FILE_LIMITS.maxEditBytes / (1024 * 1024)} MB.`);
      if (baseVersion && !/^[0-9a-f]{64}$/.test(baseVersion)) throw new AppError('bad_request', 'That save names no version of the file.');
      const r = await run(ref, 'write', [rel, baseVersion], { stdin: bytes });
      if (r.exitCode === EXIT.conflict) {
        throw new AppError('bad_request', `${baseName(rel)} was changed in the sandbox since you opened it. Reload it to see the change, or save again to overwrite it.`);
      }
      if (r.exitCode !== 0) fail(rel, r, ref);
      return { version: r.stdout.trim() };
    },

    async upload(ref, raw, size, body) {
      const rel = confinePath(raw);
      if (rel === '') throw new AppError('bad_request', 'Name the file to upload.');
      if (!Number.isSafeInteger(size) || size < 0) throw new AppError('bad_request', 'The upload must say how big it is (Content-Length).');
      if (size > deps.maxUploadBytes) throw new AppError('bad_request', `${baseName(rel)} is ${(size / 1e6).toFixed(1)} MB; uploads are limited to ${(deps.maxUploadBytes / 1e6).toFixed(0)} MB each.`);
      const r = await run(ref, 'prepareUpload', [rel, parentOf(rel)]);
      if (r.exitCode !== 0) fail(rel, r, ref);
      const dir = r.stdout;
      if (!insideRoot(dir)) throw new AppError('forbidden', `Uploads go under ${FILES_ROOT} only.`);
      // One regular file, by its bare name, unpacked into the folder resolved above: the archive can
      // carry no path of its own, no symlink and no "..".
      const pack = tarStream.pack();
      const entry = pack.entry({ name: baseName(rel), size, mode: 0o644, uid: 0, gid: 0, mtime: new Date() }, (err) => {
        if (err) pack.destroy(err);
        else pack.finalize();
      });
      body.on('error', (err) => pack.destroy(err));
      body.pipe(entry);
      await deps.archive.putArchive(ref, dir, pack as unknown as Readable);
      return { path: rel };
    },

    async download(ref, raw) {
      const rel = confinePath(raw);
      const r = await run(ref, 'stat', [rel]);
      if (r.exitCode !== 0) fail(rel, r, ref);
      const [type, resolved] = r.stdout.split('\t');
      if (!resolved || !insideRoot(resolved)) throw new AppError('forbidden', `Downloads come from ${FILES_ROOT} only.`);
      const tar = await deps.archive.getArchive(ref, resolved);
      if (type === 'directory') return { name: `${baseName(rel)}.tar`, kind: 'dir', stream: tar };
      if (type !== 'regular file' && type !== 'regular empty file') {
        tar.destroy();
        throw new AppError('bad_request', `${baseName(rel)} is not a regular file (${type}); only files and folders can be downloaded.`);
      }
      // The archive holds the one file: hand out its bytes.
      const out = new PassThrough();
      const extract = tarStream.extract();
      let size: number | undefined;
      const first = new Promise<void>((resolve, reject) => {
        extract.on('entry', (header, stream, next) => {
          if (size === undefined && header.type === 'file') {
            size = header.size;
            resolve();
            // tar-stream's streams are streamx ones: relay by hand, with backpressure.
            stream.on('data', (chunk) => {
              if (!out.write(chunk as Buffer)) {
                stream.pause();
                out.once('drain', () => stream.resume());
              }
            });
            stream.on('end', () => {
              out.end();
              next();
            });
          } else {
            stream.resume();
            stream.on('end', next);
          }
        });
        extract.on('finish', () => {
          resolve();
          out.end();
        });
        extract.on('error', (err) => {
          reject(err);
          out.destroy(err);
        });
      });
      tar.on('error', (err) => extract.destroy(err));
      tar.pipe(extract);
      await first;
      return { name: baseName(rel), kind: 'file', stream: out, size };
    },
  };
}
