// Preloaded-image templates: an inner data-root prepared once per image SET, then shared read-only.
//
// Layout of <dataDir>/templates/<key>/ once built:
//   layers.img   ext4 image holding the data-root (mode 0444, attached through a read-only loop device)
//   meta.tar     everything but the layer contents; each sandbox unpacks its own writable copy
//   layers.txt   the overlay2 layer ids whose diff/ directories sandboxes bind-mount read-only
//   ready.json   written last; its presence means the template is complete
//   mnt/         the read-only mount
import Docker from 'dockerode';
import fs from 'node:fs';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { SandboxError } from './errors.ts';
import { disk } from './host.ts';
import type { ImageSources } from './image-sources.ts';
import { assertSocket } from './safe-socket.ts';
import { LABELS } from './types.ts';

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
  const inflight = new Map<string, Promise<string>>();
  const mounted = new Set<string>();

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
    try {
      await disk(['tmpl-new', work, String(sizeMiB)]);
      builder = await deps.docker.createContainer({
        name: `lablab-tmpl-${key}-${randomBytes(3).toString('hex')}`,
        Image: deps.sandboxImage,
        Hostname: 'template',
        Env: deps.sandboxEnv ?? [],
        Labels: { [LABELS.managed]: '1', [LABELS.kind]: 'template-builder', [LABELS.owner]: deps.ownerId },
        HostConfig: {
          ...deps.hostConfigBase,
          NetworkMode: 'none',
          Binds: [`${path.join(work, 'run')}:/run/lab`, `${path.join(work, 'build')}:/var/lib/docker`],
        },
      });
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
          if (!fs.existsSync(path.join(dir, 'ready.json'))) {
            progress?.(`Preparing this lab's images (${resolved.map((i) => i.name).join(', ')}) for every sandbox: a one-time step…`);
            await build(key, resolved);
          }
          return mount(dir);
        })().finally(() => inflight.delete(key));
        inflight.set(key, p);
      }
      return p;
    },

    /** Unmounts every template this process mounted. Sandboxes still using one keep their bind mounts. */
    async unmountAll(): Promise<void> {
      for (const dir of mounted) {
        await disk(['tmpl-unmount', dir]).catch((e) => deps.log(`template ${dir}: unmount failed`, e));
      }
      mounted.clear();
    },

    /** Removes unfinished builds left by a killed process (never one this process is running). */
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
        if (!m || inflight.has(m[1]!)) continue;
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
        if (!/^[0-9a-f]{16}$/.test(key) || inUse.has(key) || inflight.has(key)) continue;
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

    root,
  };
}

export type TemplateStore = ReturnType<typeof createTemplateStore>;
