// The remote engine site (tcp:// with TLS, ssh://): nothing of the engine's host is reachable from
// here, so everything goes through its API.
// - Storage: the inner data-root, /root and /tmp are labelled named volumes, removed with the sandbox
//   and reaped when orphaned. No size cap: named volumes have no quota (said in the start-up line).
// - Templates: one labelled volume per image set holds an inner data-root with the lab's images
//   loaded (the images were shipped to that engine first, image-ship.ts); each sandbox gets a full
//   copy by a short-lived helper container, made ahead when it can (one spare per template). A copy,
//   not hard links: a learner is root in the sandbox and could write into a shared layer file in place.
// - Limits: container limits (no host cgroup parent). On cgroup v1 a learner can raise them from inside,
//   so that is refused unless unlimited sandboxes are allowed, as on the local site.
// - The inner engine: HTTP over an exec of `docker system dial-stdio` (exec-relay.ts); the shell: the
//   exec transport (shell-attach.ts).
// - Egress and host isolation: iptables on that host, run by a short-lived helper container with the
//   host's network and NET_ADMIN (the sandbox image has iptables), so the rules match the local ones.
import type Docker from 'dockerode';
import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import * as tarFs from 'tar-fs';
import { createEngineClient } from './engine-client.ts';
import type { EngineSite } from './engine-site.ts';
import { orNull } from './engine-status.ts';
import { SandboxError } from './errors.ts';
import { createExecRelayAgent } from './exec-relay.ts';
import type { ImageSources } from './image-sources.ts';
import { createSiteHelpers, HELPER_KIND } from './site-helpers.ts';
import { hostIsolationRule, idempotent } from './networks.ts';
import type { SandboxExec } from './sandbox-exec.ts';
import { templateKey } from './templates.ts';
import { LABEL_PREFIX, LABELS, type EngineClient, type SandboxRef, type SandboxShell } from './types.ts';

/** Which sandbox a volume belongs to, and which image set a template volume holds. */
const VOLUME_SANDBOX_LABEL = `${LABEL_PREFIX}.sandbox`;
const TEMPLATE_LABEL = `${LABEL_PREFIX}.template`;
/** The image names a template volume holds, so a stale one can be recognised (its key no longer matches). */
const TEMPLATE_IMAGES_LABEL = `${LABEL_PREFIX}.images`;
/** Written into a template volume once its images are loaded and its engine stopped cleanly. */
const READY_MARK = '.lablab-template-ready';
/** Exit code of the copy helper when the template volume is not complete. */
const NOT_READY_EXIT = 3;
/** A volume or helper without its sandbox is only reaped once this old (a create may be in flight). */
const ORPHAN_MIN_AGE_MS = 2 * 60_000;
const SANDBOX_VOLUMES = { docker: '/var/lib/docker', root: '/root', tmp: '/tmp' } as const;
/** Data-root copies kept ready per template, so a create does not wait for its copy (0: none). */
const SPARES_PER_TEMPLATE = 1;

export interface RemoteSiteDeps {
  docker: Docker;
  sandboxImage: string;
  ownerId: string;
  hostConfigBase: Docker.HostConfig;
  /** The environment of every container of the sandbox image. */
  sandboxEnv?: string[];
  sources: ImageSources;
  sx: SandboxExec;
  shell: SandboxShell;
  allowUnlimited?: boolean;
  log: (msg: string, err?: unknown) => void;
}

const volumeName = (id: string, what: keyof typeof SANDBOX_VOLUMES) => `lablab-sbx-${id}-${what}`;

export function createRemoteSite(deps: RemoteSiteDeps): EngineSite {
  const { docker, sx, log } = deps;
  const owner = deps.ownerId;
  const helpers = createSiteHelpers({ docker, image: deps.sandboxImage, owner });
  const engines = new Map<string, EngineClient>();
  const templates = new Map<string, Promise<string>>();

  let cgroupVersion: Promise<string> | undefined;
  const engineCgroups = () => {
    cgroupVersion ??= docker.info().then((i: { CgroupVersion?: string }) => i.CgroupVersion ?? '1');
    cgroupVersion.catch(() => (cgroupVersion = undefined)); // an engine that did not answer is asked again
    return cgroupVersion;
  };

  async function check(): Promise<void> {
    if ((await engineCgroups()) === '2' || deps.allowUnlimited) return;
    throw new SandboxError(
      'sandbox_failed',
      'This remote engine uses cgroup v1: a sandbox\'s memory, pids and CPU limits are container limits there, which a learner (root in the sandbox) could raise. Use a cgroup v2 host, or set SANDBOX_ALLOW_UNLIMITED=1 to accept it.',
    );
  }

  const templateVolume = (key: string) => `lablab-tmpl-${createHash('sha256').update(owner).digest('hex').slice(0, 8)}-${key}`;
  async function keyOf(images: string[], resolve: (name: string) => Promise<{ id: string } | null>): Promise<string | null> {
    const resolved = await Promise.all(images.map(async (name) => ({ name, id: (await resolve(name))?.id })));
    if (resolved.some((r) => !r.id)) return null;
    const sandbox = await docker.getImage(deps.sandboxImage).inspect();
    return templateKey(resolved as { name: string; id: string }[], sandbox.Id);
  }

  /** The template volume for this image set, built once (single-flight per key). */
  function template(images: string[], onProgress?: (m: string) => void): Promise<string> {
    return (async () => {
      const key = (await keyOf(images, (n) => deps.sources.ensure(n, onProgress)))!;
      const name = templateVolume(key);
      let p = templates.get(name);
      if (!p) {
        p = buildTemplate(name, key, images, onProgress);
        templates.set(name, p);
        p.catch(() => templates.delete(name));
      }
      return p;
    })();
  }

  async function buildTemplate(name: string, key: string, images: string[], onProgress?: (m: string) => void): Promise<string> {
    if (await orNull(docker.getVolume(name).inspect())) {
      if ((await helpers.run({ name: 'check', cmd: ['test', '-e', `/t/${READY_MARK}`], mounts: [{ Type: 'volume', Source: name, Target: '/t', ReadOnly: true }] })).code === 0) return name;
      await idempotent(docker.getVolume(name).remove()); // a build a killed process left half-done
    }
    const started = Date.now();
    onProgress?.(`Preparing this lab's images (${images.join(', ')}) on this sandbox machine: a one-time step…`);
    log(`template ${key}: building for ${images.join(', ')} in volume ${name}`);
    await docker.createVolume({ Name: name, Labels: { [LABELS.managed]: '1', [LABELS.kind]: 'template', [LABELS.owner]: owner, [TEMPLATE_LABEL]: key, [TEMPLATE_IMAGES_LABEL]: images.join(',') } });
    let builder: Docker.Container | undefined;
    try {
      builder = await docker.createContainer({
        name: `lablab-tmpl-${key}-${Date.now().toString(36)}`,
        Image: deps.sandboxImage,
        Hostname: 'template',
        Labels: { [LABELS.managed]: '1', [LABELS.kind]: 'template-builder', [LABELS.owner]: owner },
        HostConfig: { ...deps.hostConfigBase, NetworkMode: 'none', Mounts: [{ Type: 'volume', Source: name, Target: '/var/lib/docker' }] },
      });
      await builder.start();
      const ref = { id: 'template', containerId: builder.id, node: 0, workdir: '/' } as SandboxRef;
      for (let i = 0; ; i++) {
        if ((await sx.exec(ref, ['docker', 'version'], { timeoutMs: 5_000 })).exitCode === 0) break;
        if (i > 600) throw new SandboxError('sandbox_failed', 'template builder: inner engine did not start');
        await new Promise((r) => setTimeout(r, 100));
      }
      // One save stream for the whole set, so shared base layers travel once; it stays on that host's
      // engine API connection (no file on either host).
      const saved = (await (docker as unknown as { getImages(o: { names: string[] }): Promise<Readable> }).getImages({ names: images })) as Readable;
      const load = await sx.pipe(ref, ['docker', 'load', '-q']);
      load.resume();
      await new Promise<void>((resolve, reject) => {
        load.on('end', resolve).on('close', resolve).on('error', reject);
        saved.on('error', reject).pipe(load);
      });
      const tags = (await sx.exec(ref, ['docker', 'image', 'ls', '--format', '{{.Repository}}:{{.Tag}}'])).stdout.split('\n');
      const missing = images.filter((i) => !tags.includes(i));
      if (missing.length) throw new SandboxError('sandbox_failed', `template builder: ${missing.join(', ')} missing after load`);
      // A clean engine shutdown leaves a consistent data-root; only then is the template marked ready.
      await builder.stop({ t: 20 }).catch(() => {});
      await idempotent(builder.remove({ force: true }));
      builder = undefined;
      const mark = await helpers.run({ name: 'mark', cmd: ['touch', `/t/${READY_MARK}`], mounts: [{ Type: 'volume', Source: name, Target: '/t' }] });
      if (mark.code !== 0) throw new SandboxError('sandbox_failed', `template builder: ${mark.stderr.trim()}`);
      log(`template ${key}: ready in ${Date.now() - started} ms`);
      return name;
    } catch (err) {
      if (builder) await builder.remove({ force: true }).catch(() => {});
      await idempotent(docker.getVolume(name).remove()).catch((e) => log(`template ${key}: cleanup failed`, e));
      throw err;
    }
  }

  async function makeVolumes(id: string): Promise<void> {
    for (const what of Object.keys(SANDBOX_VOLUMES) as (keyof typeof SANDBOX_VOLUMES)[]) {
      await docker.createVolume({ Name: volumeName(id, what), Labels: { [LABELS.managed]: '1', [LABELS.kind]: 'sandbox-volume', [LABELS.owner]: owner, [VOLUME_SANDBOX_LABEL]: id } });
    }
  }

  async function copyTemplate(tmpl: string, id: string): Promise<void> {
    const copy = await helpers.run({
      name: `copy-${id}`,
      cmd: ['sh', '-c', `test -e /from/${READY_MARK} || exit ${NOT_READY_EXIT}; cp -a --reflink=auto /from/. /to/ && rm -f /to/${READY_MARK}`],
      mounts: [
        { Type: 'volume', Source: tmpl, Target: '/from', ReadOnly: true },
        { Type: 'volume', Source: volumeName(id, 'docker'), Target: '/to' },
      ],
    });
    if (copy.code === NOT_READY_EXIT) templates.delete(tmpl);
    if (copy.code !== 0) throw new SandboxError('sandbox_failed', `could not copy the lab's images into the sandbox: ${copy.stderr.trim() || `exit ${copy.code}`}`);
  }

  // Spare copies: the copy of a large template takes seconds (README, "Remote engines"), so after a
  // create one copy is made ahead for the next. Kept in memory only: a restarted server's spares have
  // no sandbox and are reaped as orphans.
  const spares = new Map<string, { ready: string[]; filling?: Promise<void> }>();
  /** Ids whose volumes are a spare (ready, filling or just claimed): not orphans. */
  const spareIds = new Set<string>();
  let disposed = false;
  const spareState = (tmpl: string) => {
    let st = spares.get(tmpl);
    if (!st) spares.set(tmpl, (st = { ready: [] }));
    return st;
  };

  function refillSpares(tmpl: string): void {
    const st = spareState(tmpl);
    if (disposed || st.filling || st.ready.length >= SPARES_PER_TEMPLATE) return;
    const id = randomBytes(6).toString('hex');
    spareIds.add(id);
    st.filling = (async () => {
      try {
        await makeVolumes(id);
        await copyTemplate(tmpl, id);
        st.ready.push(id);
      } catch (err) {
        spareIds.delete(id);
        await release(id).catch(() => {}); // the reaper removes what is left
        log(`template ${tmpl}: a spare copy failed (the next create copies for itself)`, err);
      }
    })().finally(() => (st.filling = undefined));
  }

  /** A ready spare's id, waiting for one being filled (it is part done), or undefined. */
  async function claimSpare(tmpl: string): Promise<string | undefined> {
    const st = spareState(tmpl);
    if (!st.ready.length && st.filling) await st.filling;
    return st.ready.shift();
  }

  async function release(id: string): Promise<void> {
    spareIds.delete(id);
    for (const what of Object.keys(SANDBOX_VOLUMES) as (keyof typeof SANDBOX_VOLUMES)[]) await idempotent(docker.getVolume(volumeName(id, what)).remove());
  }

  // The resolvers the egress rules let DNS through to: that host's, as a host-network container sees them.
  let resolvConf: Promise<string> | undefined;
  const firewallRun = (cmd: string, args: string[], stdin?: string) => helpers.firewall([cmd, ...args], stdin);

  let hostIsolation: Promise<void> | undefined;

  return {
    remote: true,
    check,
    async prepare(id, _limits, images, onProgress, mark) {
      const tmpl = images.length ? await template(images, onProgress) : undefined;
      mark?.('template');
      // A copy made ahead (its own id: volume names carry the sandbox id) saves this create the copy.
      const spare = tmpl ? await claimSpare(tmpl) : undefined;
      const sid = spare ?? id;
      if (!spare) {
        await makeVolumes(sid);
        if (tmpl) await copyTemplate(tmpl, sid);
      }
      mark?.(spare ? 'disk (a spare copy)' : 'disk');
      if (tmpl) refillSpares(tmpl);
      return {
        id: sid,
        hostConfig: {
          Mounts: (Object.entries(SANDBOX_VOLUMES) as [keyof typeof SANDBOX_VOLUMES, string][]).map(([what, target]) => ({ Type: 'volume' as const, Source: volumeName(sid, what), Target: target })),
        },
      };
    },
    release,
    paths: () => ({ socketDir: '', engineSocket: '', terminalSocket: '' }),
    engine(ref) {
      let e = engines.get(ref.id);
      if (!e) {
        e = createEngineClient({ agent: createExecRelayAgent(() => sx.pipe(ref, ['docker', 'system', 'dial-stdio'])) });
        engines.set(ref.id, e);
      }
      return e;
    },
    forget: (id) => void engines.delete(id),
    ensureShell: (ref) => deps.shell.ensureShellInSandbox(ref),
    async copyFiles(ref, hostDir) {
      // Unpacked by the engine within the container's root: it cannot write through a symlink out of it.
      await sx.putArchive(ref, '/root', tarFs.pack(hostDir, { map: (h) => ({ ...h, uid: 0, gid: 0, uname: 'root', gname: 'root' }) }) as unknown as Readable);
    },
    // Container stats cost a round trip per sandbox; the fleet's probe counts are enough remotely.
    memoryBytes: () => undefined,
    firewall: { run: firewallRun, resolvConf: () => (resolvConf ??= firewallRun('cat', ['/etc/resolv.conf']).catch((e) => ((resolvConf = undefined), Promise.reject(e)))) },
    isolateHost(pool) {
      hostIsolation ??= (async () => {
        const rule = hostIsolationRule(pool);
        const present = await firewallRun('iptables', ['-w', '-C', ...rule]).then(() => true, () => false);
        if (present) return;
        await firewallRun('iptables', ['-w', '-I', ...rule]).catch((e) => log(`could not add the host-isolation firewall rule on the remote engine's host (sandboxes can reach its services): ${(e as Error).message}`));
      })();
      return hostIsolation;
    },
    async reapOrphans(known, creating, now) {
      const reaped = new Set<string>();
      const vols = (await docker.listVolumes({ filters: { label: [`${LABELS.managed}=1`, `${LABELS.kind}=sandbox-volume`, `${LABELS.owner}=${owner}`] } })).Volumes ?? [];
      for (const v of vols) {
        const id = v.Labels?.[VOLUME_SANDBOX_LABEL] ?? '';
        const created = Date.parse((v as { CreatedAt?: string }).CreatedAt ?? '');
        if (known.has(id) || creating.has(id) || spareIds.has(id) || !(now - created > ORPHAN_MIN_AGE_MS)) continue;
        await idempotent(docker.getVolume(v.Name).remove()).catch((e) => log(`reap: could not remove volume ${v.Name}`, e));
        reaped.add(id);
      }
      for (const c of await docker.listContainers({ all: true, filters: { label: [`${LABELS.managed}=1`, `${LABELS.kind}=${HELPER_KIND}`, `${LABELS.owner}=${owner}`] } })) {
        if (now - c.Created * 1000 > ORPHAN_MIN_AGE_MS * 5) await idempotent(docker.getContainer(c.Id).remove({ force: true }));
      }
      // Template volumes built from images (or a sandbox image) that engine no longer has: what a lab
      // with these images would get today is a different key. Sandboxes hold full copies, so only a
      // build or copy of this process can be using one.
      for (const v of (await docker.listVolumes({ filters: { label: [`${LABELS.managed}=1`, `${LABELS.kind}=template`, `${LABELS.owner}=${owner}`] } })).Volumes ?? []) {
        if (templates.has(v.Name) || creating.size) continue;
        const images = (v.Labels?.[TEMPLATE_IMAGES_LABEL] ?? '').split(',').filter(Boolean);
        const key = await keyOf(images, (n) => deps.sources.inspect(n)).catch(() => null);
        if (key && templateVolume(key) === v.Name) continue;
        await idempotent(docker.getVolume(v.Name).remove()).catch((e) => log(`reap: could not remove template volume ${v.Name}`, e));
        log(`template volume ${v.Name} pruned (its images changed or are gone)`);
      }
      return [...reaped];
    },
    async prepareImages(images) {
      if (images.length) await template(images);
    },
    async dispose() {
      disposed = true;
      engines.clear();
      // Spares no sandbox took: this process alone knows them.
      for (const st of spares.values()) {
        await st.filling;
        for (const id of st.ready.splice(0)) await release(id).catch((e) => log(`spare ${id}: could not remove its volumes`, e));
      }
    },
  };
}
