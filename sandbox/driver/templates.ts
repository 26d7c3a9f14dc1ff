// Preloaded-image templates: an inner data-root prepared once per image SET, then shared read-only.
//
// Layout of <dataDir>/templates/<key>/ once built:
//   layers.img   ext4 image holding the data-root (mode 0444, attached through a read-only loop device)
//   meta.tar     everything but the layer contents; each sandbox unpacks its own writable copy
//   layers.txt   the overlay2 layer ids whose diff/ directories sandboxes bind-mount read-only
//   ready.json   written last; its presence means the template is complete
//   mnt/         the read-only mount
// Beside them: <key>.build-<random>/ while a build runs, and .locks/<key>, the key's lock (work-lock.ts).
// Whoever holds a key's lock builds it, so a build dir whose key lock nobody holds is a dead
// process's, and so is a builder container labelled with a free lock. Mounting and unmounting a key
// take the lock too, and a template is only unmounted when no other live process uses the data dir.
import Docker from 'dockerode';
import fs from 'node:fs';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { SandboxError } from './errors.ts';
import { disk } from './host.ts';
import type { ImageSources } from './image-sources.ts';
import { assertSocket } from './safe-socket.ts';
import { LABEL_PREFIX, LABELS } from './types.ts';
import { dataDirPresence, holdLock, lockHeld } from './work-lock.ts';

/** On a builder container: the lock file of the build it serves (free lock: its process is dead). */
export const BUILD_LOCK_LABEL = `${LABEL_PREFIX}.build-lock`;

/** Builds in flight in this process, so a clean shutdown can stop their builders (stopTemplateBuilds). */
const activeBuilds = new Set<{ abort(): Promise<void> }>();

/** Stops every template build of this process: builder containers removed, build dirs released. */
export async function stopTemplateBuilds(): Promise<void> {
  await Promise.allSettled([...activeBuilds].map((b) => b.abort()));
}

/** On a builder container: the kernel it was made on (/proc/sys/kernel/random/boot_id); its lock is only judged there. */
export const BUILD_BOOT_LABEL = `${LABEL_PREFIX}.build-boot`;

function bootId(): string {
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

/**
 * Whether a template builder container belongs to a live build: its build lock is held. Undefined
 * when this process cannot tell: no lock label (an older release), made on another kernel (host), or
 * its lock file is not here (another host, or a container that sees other paths).
 */
export async function builderLive(labels: Record<string, string> | undefined): Promise<boolean | undefined> {
  const lock = labels?.[BUILD_LOCK_LABEL];
  if (!lock || labels?.[BUILD_BOOT_LABEL] !== bootId() || !fs.existsSync(lock)) return undefined;
  return lockHeld(lock);
}

/** Bump when the template layout or build recipe changes: old templates are then ignored. */
/** 3: built inside the sandbox user namespace, so every file is owned by the namespace range. */
export const TEMPLATE_FORMAT = 3;

export interface TemplateStoreDeps {
  docker: Docker;
  dataDir: string;
  sandboxImage: string;
  ownerId: string;
  /** HostConfig fields every sandbox-image container needs (capabilities, seccomp, cgroupns). */
  hostConfigBase: Docker.HostConfig;
  /** The environment of every container of the sandbox image. */
  sandboxEnv?: string[];
  log: (msg: string, err?: unknown) => void;
  /** Fetches an image the host lacks (tarball folder, pull); without it a missing image is an error. */
  sources?: ImageSources;
}

/** "busybox" → "busybox:latest"; a digest or explicit tag is kept. */
export function normalizeImageName(name: string): string {
  const lastSlash = name.lastIndexOf('/');
  if (name.includes('@') || name.slice(lastSlash + 1).includes(':')) return name;
  return `${name}:latest`;
}

/** The template key: a hash of the sorted names, the host image ids, the inner engine's image and the format. */
export function templateKey(images: { name: string; id: string }[], sandboxImageId: string): string {
  const h = createHash('sha256');
  h.update(`format=${TEMPLATE_FORMAT}\nsandbox=${sandboxImageId}\n`);
  for (const i of [...images].sort((a, b) => a.name.localeCompare(b.name))) h.update(`${i.name}=${i.id}\n`);
  return h.digest('hex').slice(0, 16);
}

export function createTemplateStore(deps: TemplateStoreDeps) {
  const root = path.join(deps.dataDir, 'templates');
  const locks = path.join(root, '.locks');
  const lockOf = (key: string) => path.join(locks, key);
  const inflight = new Map<string, Promise<string>>();
  const mounted = new Set<string>();
  const presence = dataDirPresence(deps.dataDir);

  /** Runs `fn` holding the key's lock (waiting for whoever holds it: another process building it). */
  async function withKeyLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    await presence.join();
    fs.mkdirSync(locks, { recursive: true });
    const lock = (await holdLock(lockOf(key), { wait: true }))!;
    try {
      return await fn();
    } finally {
      await lock.release();
    }
  }

  /** Under the key's lock every other build dir of that key is a dead process's. */
  async function removeDeadBuilds(key: string): Promise<number> {
    let n = 0;
    for (const e of fs.existsSync(root) ? fs.readdirSync(root) : []) {
      if (!e.startsWith(`${key}.build-`)) continue;
      await disk(['release', path.join(root, e)]);
      n++;
    }
    return n;
  }

  async function resolve(images: string[], fetch = false, progress?: (message: string) => void): Promise<{ key: string; images: { name: string; id: string; size: number }[] }> {
    const names = [...new Set(images.map(normalizeImageName))];
    const resolved = await Promise.all(
      names.map(async (name) => {
        if (fetch && deps.sources) {
          const r = await deps.sources.ensure(name, progress);
          return { name, id: r.id, size: r.size };
        }
        try {
          const info = await deps.docker.getImage(name).inspect();
          return { name, id: info.Id, size: info.Size };
        } catch (err) {
          throw new SandboxError('lab_broken', `image "${name}" is not on this host; build or pull it first (npm run setup builds the offline base images)`, { cause: err });
        }
      }),
    );
    const sandbox = await deps.docker.getImage(deps.sandboxImage).inspect();
    return { key: templateKey(resolved, sandbox.Id), images: resolved };
  }

  async function mount(dir: string): Promise<string> {
    if (!mounted.has(dir)) {
      await disk(['tmpl-mount', dir]);
      mounted.add(dir);
    }
    return dir;
  }

  async function build(key: string, images: { name: string; id: string; size: number }[]): Promise<string> {
    const final = path.join(root, key);
    const work = path.join(root, `${key}.build-${randomBytes(4).toString('hex')}`);
    const started = Date.now();
    deps.log(`template ${key}: building for ${images.map((i) => i.name).join(', ')}`);
    fs.mkdirSync(path.join(work, 'run'), { recursive: true });
    // docker load spools the whole archive under tmp/ before unpacking it: room for both, plus the journal.
    const sizeMiB = Math.ceil((images.reduce((s, i) => s + i.size, 0) * 2.5) / 1024 / 1024) + 512;
    let builder: Docker.Container | undefined;
    let aborted = false;
    let settled: Promise<unknown> = Promise.resolve();
    const entry = {
      async abort() {
        aborted = true;
        await builder?.remove({ force: true }).catch(() => {});
        await settled.catch(() => {});
      },
    };
    activeBuilds.add(entry);
    let done!: () => void;
    settled = new Promise<void>((r) => (done = r));
    try {
      await disk(['tmpl-new', work, String(sizeMiB)]);
      if (aborted) throw new SandboxError('sandbox_failed', 'template build stopped: the process is stopping');
      builder = await deps.docker.createContainer({
        name: `lablab-tmpl-${key}-${randomBytes(3).toString('hex')}`,
        Image: deps.sandboxImage,
        Hostname: 'template',
        Env: deps.sandboxEnv ?? [],
        Labels: { [LABELS.managed]: '1', [LABELS.kind]: 'template-builder', [LABELS.owner]: deps.ownerId, [BUILD_LOCK_LABEL]: lockOf(key), [BUILD_BOOT_LABEL]: bootId() },
        HostConfig: {
          ...deps.hostConfigBase,
          NetworkMode: 'none',
          Binds: [`${path.join(work, 'run')}:/run/lab`, `${path.join(work, 'build')}:/var/lib/docker`],
        },
      });
      if (aborted) throw new SandboxError('sandbox_failed', 'template build stopped: the process is stopping');
      await builder.start();
      const sock = path.join(work, 'run', 'docker.sock');
      const inner = new Docker({ socketPath: sock, timeout: 600_000 });
      // A busy host (a classroom starting at once) can take long to boot a fresh engine.
      const deadline = Date.now() + 180_000;
      for (;;) {
        try {
          assertSocket(sock);
          await inner.ping();
          break;
        } catch (err) {
          if (aborted) throw new SandboxError('sandbox_failed', 'template build stopped: the process is stopping');
          if (Date.now() > deadline) throw new SandboxError('sandbox_failed', 'template builder: inner engine did not start', { cause: err });
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      // One save stream for the whole set, so shared base layers travel once.
      const saved = (await (deps.docker as unknown as { getImages(o: { names: string[] }): Promise<Readable> }).getImages({
        names: images.map((i) => i.name),
      })) as Readable;
      const res = (await inner.loadImage(saved, { quiet: true })) as unknown as Readable;
      let out = '';
      for await (const chunk of res) out += String(chunk);
      if (/"error"/.test(out)) throw new SandboxError('sandbox_failed', `template builder: load failed: ${out.slice(0, 500)}`);
      const tags = (await inner.listImages()).flatMap((i) => i.RepoTags ?? []);
      const missing = images.filter((i) => !tags.includes(i.name));
      if (missing.length) throw new SandboxError('sandbox_failed', `template builder: ${missing.map((m) => m.name).join(', ')} missing after load`);
      // A clean engine shutdown leaves a consistent data-root.
      await builder.stop({ t: 20 }).catch(() => {});
      await builder.remove({ force: true });
      builder = undefined;
      await disk(['tmpl-seal', work]);
      fs.writeFileSync(
        path.join(work, 'ready.json'),
        JSON.stringify({ key, format: TEMPLATE_FORMAT, images, builtAt: new Date().toISOString() }, null, 2),
      );
      fs.rmSync(path.join(work, 'run'), { recursive: true, force: true });
      try {
        fs.renameSync(work, final);
      } catch {
        // Another process finished the same template first; keep theirs.
        await disk(['release', work]);
      }
      deps.log(`template ${key}: ready in ${Date.now() - started} ms`);
      return final;
    } catch (err) {
      if (builder) await builder.remove({ force: true }).catch(() => {});
      await disk(['release', work]).catch((e) => deps.log(`template ${key}: cleanup failed`, e));
      throw err;
    } finally {
      activeBuilds.delete(entry);
      done();
    }
  }

  return {
    /** The mounted template directory for this image set (built once, single-flight per key), or null for no images. */
    async ensure(images: string[], progress?: (message: string) => void): Promise<string | null> {
      if (images.length === 0) return null;
      const { key, images: resolved } = await resolve(images, true, progress);
      const dir = path.join(root, key);
      if (mounted.has(dir)) return dir;
      let p = inflight.get(key);
      if (!p) {
        p = (async () => {
          fs.mkdirSync(root, { recursive: true });
          return withKeyLock(key, async () => {
            // Checked under the lock: another process may have built it while we waited.
            if (!fs.existsSync(path.join(dir, 'ready.json'))) {
              const dead = await removeDeadBuilds(key);
              if (dead) deps.log(`template ${key}: removed ${dead} unfinished build(s) of a stopped process`);
              progress?.(`Preparing this lab's images (${resolved.map((i) => i.name).join(', ')}) for every sandbox: a one-time step…`);
              await build(key, resolved);
            }
            return mount(dir);
          });
        })().finally(() => inflight.delete(key));
        inflight.set(key, p);
      }
      return p;
    },

    /**
     * Unmounts every template this process mounted, unless another live process uses the data dir (it
     * may be using them; the last one out unmounts). Sandboxes still using one keep their bind mounts.
     */
    async unmountAll(): Promise<void> {
      for (const dir of mounted) {
        await withKeyLock(path.basename(dir), async () => {
          if (await presence.othersPresent()) return;
          await disk(['tmpl-unmount', dir]);
        }).catch((e) => deps.log(`template ${dir}: unmount failed`, e));
      }
      mounted.clear();
      await presence.leave();
    },

    /** Unmounts templates a dead process left mounted: not ours, not in `inUse`, nobody else alive here. */
    async unmountAbandoned(inUse: Set<string>): Promise<string[]> {
      const done: string[] = [];
      const mnts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '');
      for (const m of mnts) {
        const key = path.basename(path.dirname(m));
        const dir = path.join(root, key);
        if (m !== path.join(dir, 'mnt') || !/^[0-9a-f]{16}$/.test(key) || mounted.has(dir) || inUse.has(key) || inflight.has(key)) continue;
        await withKeyLock(key, async () => {
          if (await presence.othersPresent()) return;
          await disk(['tmpl-unmount', dir]);
          done.push(key);
        });
      }
      if (done.length) deps.log(`templates unmounted (left by a stopped process): ${done.join(', ')}`);
      return done;
    },

    /** Removes unfinished builds left by a dead process: those whose key lock nobody holds. */
    async reapPartialBuilds(): Promise<number> {
      let n = 0;
      let entries: string[] = [];
      try {
        entries = fs.readdirSync(root);
      } catch {
        return 0;
      }
      for (const e of entries) {
        const m = /^([0-9a-f]+)\.build-/.exec(e);
        if (!m || inflight.has(m[1]!) || (await lockHeld(lockOf(m[1]!)))) continue;
        await disk(['release', path.join(root, e)]);
        n++;
      }
      return n;
    },

    /**
     * Removes stale templates: built from image ids (or a sandbox image) the host no longer has, not
     * mounted by any process, not in `inUse` (keys the sandboxes on disk were cloned from), not building.
     */
    async prune(inUse: Set<string>): Promise<string[]> {
      const removed: string[] = [];
      let entries: string[] = [];
      try {
        entries = fs.readdirSync(root);
      } catch {
        return removed;
      }
      const mountedNow = new Set(
        fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? ''),
      );
      for (const key of entries) {
        if (!/^[0-9a-f]{16}$/.test(key) || inUse.has(key) || inflight.has(key) || (await lockHeld(lockOf(key)))) continue;
        const dir = path.join(root, key);
        if (mounted.has(dir) || mountedNow.has(path.join(dir, 'mnt'))) continue;
        // Still what a lab with these images would get today? Then it is warm, not stale: keep it.
        try {
          const ready = JSON.parse(fs.readFileSync(path.join(dir, 'ready.json'), 'utf8')) as { images: { name: string }[] };
          if ((await resolve(ready.images.map((i) => i.name))).key === key) continue;
        } catch {
          // unreadable, or an image is gone from the host: stale
        }
        await disk(['release', dir]);
        removed.push(key);
      }
      if (removed.length) deps.log(`templates pruned: ${removed.join(', ')}`);
      return removed;
    },

    /** Whether another live process uses this data dir (their young work cannot be told from a dead one's). */
    othersPresent: () => presence.othersPresent(),
    join: () => presence.join(),

    root,
  };
}

export type TemplateStore = ReturnType<typeof createTemplateStore>;
