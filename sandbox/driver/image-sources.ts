// Where a lab's images come from before they go into a template: the host engine already has them, or the
// host loads them from a tarball in the offline folder, or the host pulls them once (when online). One
// host copy then feeds every sandbox through the template, so fifty learners cost one pull, not fifty.
import type Docker from 'dockerode';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import type { Readable } from 'node:stream';
import { SandboxError } from './errors.ts';

export interface ResolvedImage {
  name: string;
  id: string;
  size: number;
  /** How it reached the host engine this time. */
  via: 'present' | 'tarball' | 'pull';
}

export interface ImageSourcesDeps {
  docker: Docker;
  /** Folder of `docker save` tarballs (.tar, .tar.gz, .tgz) for offline hosts. */
  dir: string;
  /** Whether the host may pull a missing image (online hosts). */
  pull: boolean;
  /** Progress and outcomes, one line each. */
  log: (msg: string, err?: unknown) => void;
}

export interface ImageSources {
  /** The image on the host engine, fetched if needed (single-flight per name); throws an author-facing SandboxError. */
  ensure(name: string, progress?: (message: string) => void): Promise<ResolvedImage>;
  /** Present on the host right now (no fetching). */
  inspect(name: string): Promise<{ id: string; size: number } | null>;
}

/** "redis:7" → "redis_7"; "ghcr.io/a/b:1" → "ghcr.io_a_b_1": the tarball name tried first. */
export function tarballStem(name: string): string {
  return name.replace(/[/:@]/g, '_');
}

const TARBALL = /\.(tar|tar\.gz|tgz)$/;

/** A lab image found nowhere. `message` is for the author and host; `learnerMessage` for the learner. */
export class MissingImageError extends SandboxError {
  readonly image: string;
  readonly learnerMessage: string;
  constructor(image: string, message: string) {
    super('lab_broken', message);
    this.image = image;
    this.learnerMessage = `This lab needs the image ${image}, which this server does not have yet, so its sandbox cannot start. The workshop host has been told how to add it.`;
  }
}

/** The three ways to provide an image, for the author. */
export function missingImageMessage(name: string, dir: string, pullTried: string | null): string {
  return `image "${name}" is not on this host. Provide it one of three ways: ` +
    `(1) build or tag it on the host: docker build -t ${name} … (npm run setup builds the offline stand-ins); ` +
    `(2) pull it once on the host when online: docker pull ${name}${pullTried ? ` (the server tried and got: ${pullTried})` : ' (the server does this itself when pulling is enabled)'}; ` +
    `(3) offline: on any machine run docker save ${name} -o ${tarballStem(name)}.tar and put the file in ${dir}`;
}

export function createImageSources(deps: ImageSourcesDeps): ImageSources {
  const inflight = new Map<string, { p: Promise<ResolvedImage>; listeners: Set<(message: string) => void> }>();
  /** Tells every caller waiting on this image (they share one fetch). */
  const tell = (name: string, message: string): void => {
    for (const l of inflight.get(name)?.listeners ?? []) {
      try {
        l(message);
      } catch {
        // A listener's failure is its own; the fetch goes on.
      }
    }
  };
  /** Tarballs already loaded by this process (path, size and mtime), so each is read once. */
  const loaded = new Set<string>();

  async function inspect(name: string): Promise<{ id: string; size: number } | null> {
    try {
      const info = await deps.docker.getImage(name).inspect();
      return { id: info.Id, size: info.Size };
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return null;
      throw err;
    }
  }

  function tarballs(name: string): string[] {
    let files: string[];
    try {
      files = fs.readdirSync(deps.dir).filter((f) => TARBALL.test(f)).map((f) => path.join(deps.dir, f));
    } catch {
      return [];
    }
    const stem = tarballStem(name);
    const own = files.filter((f) => path.basename(f).replace(TARBALL, '') === stem);
    // Its own file first; then any other not yet loaded (a tarball may hold several images under any name).
    return [...own, ...files.filter((f) => !own.includes(f))].filter((f) => !loaded.has(fileKey(f)));
  }

  function fileKey(f: string): string {
    const st = fs.statSync(f);
    return `${f}:${st.size}:${st.mtimeMs}`;
  }

  async function load(name: string, file: string): Promise<void> {
    const t0 = Date.now();
    deps.log(`image tarball ${path.basename(file)}: loading`);
    tell(name, `Loading image ${name} from the host's offline folder (once for everyone)…`);
    let input: Readable = fs.createReadStream(file);
    if (/\.(gz|tgz)$/.test(file)) input = input.pipe(zlib.createGunzip());
    const res = (await deps.docker.loadImage(input, { quiet: true })) as unknown as Readable;
    let out = '';
    for await (const chunk of res) out += String(chunk);
    loaded.add(fileKey(file));
    const err = /"error(?:Detail)?"\s*:\s*(?:\{"message":)?"([^"]+)"/.exec(out);
    if (err) throw new Error(`loading ${path.basename(file)} failed: ${err[1]}`);
    deps.log(`image tarball ${path.basename(file)}: loaded in ${Date.now() - t0} ms`);
  }

  async function pull(name: string): Promise<void> {
    const t0 = Date.now();
    deps.log(`image ${name}: pulling once on the host`);
    tell(name, `Fetching image ${name} for this lab (once for everyone)…`);
    const stream = (await deps.docker.pull(name)) as Readable;
    let lastPct = -1;
    await new Promise<void>((resolve, reject) => {
      deps.docker.modem.followProgress(
        stream,
        (err: Error | null) => (err ? reject(err) : resolve()),
        (e: { status?: string; progressDetail?: { current?: number; total?: number }; error?: string }) => {
          if (e.error) return;
          const { current, total } = e.progressDetail ?? {};
          if (current && total) {
            const pct = Math.floor((current / total) * 10) * 10;
            if (pct !== lastPct) {
              deps.log(`image ${name}: ${e.status ?? 'pulling'} ${pct}%`);
              tell(name, `Fetching image ${name} for this lab (once for everyone): ${e.status ?? 'pulling'} ${pct}%`);
            }
            lastPct = pct;
          }
        },
      );
    });
    deps.log(`image ${name}: pulled in ${Date.now() - t0} ms`);
  }

  async function fetch(name: string): Promise<ResolvedImage> {
    const have = await inspect(name);
    if (have) return { name, ...have, via: 'present' };
    for (const file of tarballs(name)) {
      try {
        await load(name, file);
      } catch (err) {
        deps.log(`image tarball ${path.basename(file)}: not usable`, err);
        continue;
      }
      const got = await inspect(name);
      if (got) return { name, ...got, via: 'tarball' };
    }
    let pullError: string | null = null;
    if (deps.pull) {
      try {
        await pull(name);
        const got = await inspect(name);
        if (got) return { name, ...got, via: 'pull' };
        pullError = 'the pull ended without the image';
      } catch (err) {
        pullError = String((err as Error).message ?? err).replace(/^\(HTTP code \d+\) [^-]*- /, '').split('\n')[0]!.slice(0, 200);
      }
    }
    const err = new MissingImageError(name, missingImageMessage(name, deps.dir, pullError));
    deps.log(`lab image missing: ${err.message}`);
    throw err;
  }

  return {
    inspect,
    ensure(name, progress) {
      let f = inflight.get(name);
      if (!f) {
        f = { p: Promise.resolve(null as unknown as ResolvedImage), listeners: new Set() };
        inflight.set(name, f);
        f.p = fetch(name).finally(() => inflight.delete(name));
      }
      if (progress) f.listeners.add(progress);
      return f.p;
    },
  };
}
