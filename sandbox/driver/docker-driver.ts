// SandboxDriver over one Docker engine (dockerode). Each sandbox is a Docker-in-Docker container.
// This front composes the parts: the engine site (what is on the engine's host: storage, limits,
// sockets, firewall; engine-site.ts), session networks (networks.ts), execs, ports and files
// (sandbox-exec.ts), the shell through the engine API (shell-attach.ts) and the reaper (reaper.ts).
import Docker from 'dockerode';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import * as tarFs from 'tar-fs';
import { SandboxError } from './errors.ts';
import { isAnswerFile } from './answer-files.ts';
import { builtSandboxImage } from './image-tag.ts';
import { seccompSecurityOpt } from './seccomp.ts';
import { decideLsm, readLsmFacts } from './lsm.ts';
import fs from 'node:fs';
import { ownerUid, readUsernsFacts, userNamespacesUsable, type Boundary } from './userns.ts';
import { createEgressFirewall, type EgressPolicy } from './egress.ts';
import type { CgroupManager } from './host.ts';
import { createLocalSite, MAX_SOCKET_PATH } from './local-site.ts';
import { createRemoteSite } from './remote-site.ts';
import type { EngineSite } from './engine-site.ts';
import { createSessionNetworks } from './networks.ts';
import { createSandboxExec, EXEC_TUNING } from './sandbox-exec.ts';
import { createReaper, IMAGES_LABEL, SANDBOX_ID_LABEL } from './reaper.ts';
import { SHELL_TUNING } from './shell.ts';
import { createShellAttach } from './shell-attach.ts';
import { normalizeImageName } from './templates.ts';
import { createImageSources } from './image-sources.ts';
import {
  BACKGROUND_CPU_SHARES,
  LABELS,
  type SandboxArchive,
  type SandboxDriver,
  type SandboxLimits,
  type SandboxRef,
  type SandboxShell,
  type SandboxSpec,
} from './types.ts';

/** Tuning constants for the driver, each with its reason. */
export const SANDBOX_TUNING = {
  /** How often waitReady polls the inner engine; it answers ~0.5 s after start. */
  readyPollMs: 50,
  defaultReadyTimeoutMs: 60_000,
  ...EXEC_TUNING,
  ...SHELL_TUNING,
  /** Unix socket paths longer than this (sun_path is 108 bytes) cannot be connected to. */
  maxSocketPath: MAX_SOCKET_PATH,
} as const;
export interface DockerSandboxDriverConfig {
  /** Holds sandboxes/<id>/ and templates/<key>/. Must be on a filesystem that supports loop files. */
  dataDir: string;
  /** The sandbox image (default: the build setup.sh recorded for this checkout, see image-tag.ts). */
  sandboxImage?: string;
  /** Marks this server's objects so two servers on one engine never reap each other's. */
  ownerId: string;
  /** Defaults for any limit a spec leaves out. */
  limits?: Partial<SandboxLimits>;
  /** Session networks are carved from this pool... */
  subnetPool?: string;
  /** ...in subnets of this prefix length (a /28 holds 13 sandboxes). */
  subnetPrefix?: number;
  /** Folder of `docker save` tarballs a lab's missing images are loaded from (default <dataDir>/images). */
  imagesDir?: string;
  /** Whether the host pulls a lab's missing images once (default true; an offline host fails fast). */
  pullImages?: boolean;
  /** A registry mirror URL for the sandboxes' inner engines (and nothing else: the host pulls directly). */
  registryMirror?: string;
  /** How to reach the host engine (default: its local unix socket). */
  docker?: Docker.DockerOptions;
  /**
   * The engine runs on another host (tcp:// with TLS, ssh://): no loop disk, host cgroup, socket
   * folder or local iptables; everything goes through its API (remote-site.ts).
   */
  remote?: boolean;
  /** Host cgroups (the hard limits' parent); by default made from this host engine and /sys/fs/cgroup. */
  cgroups?: CgroupManager;
  /** Start sandboxes even where their limits cannot be enforced (SANDBOX_ALLOW_UNLIMITED=1). */
  allowUnlimited?: boolean;
  /** What sandboxes may reach outside their session (SANDBOX_EGRESS); default: the internet, no private ranges. */
  egress?: EgressPolicy;
  /** A host engine runtime instead of runc (SANDBOX_RUNTIME, e.g. sysbox-runc); refused when the engine lacks it. */
  runtime?: string;
  /**
   * Start sandboxes without a user namespace where the host cannot give one (SANDBOX_ALLOW_HOST_ACCESS=1):
   * root in such a sandbox can reach the host kernel. Default false: refuse.
   */
  allowHostAccess?: boolean;
  /** Force the boundary (tests: 'host' shows what the user namespace refuses; needs allowHostAccess). */
  boundary?: Boundary;
  log?: (msg: string, err?: unknown) => void;
}

export const DEFAULT_LIMITS: SandboxLimits = { memoryMiB: 2048, pids: 1024, cpuShares: 512, diskGiB: 8 };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function createDockerSandboxDriver(config: DockerSandboxDriverConfig): SandboxDriver & SandboxArchive & SandboxShell {
  const log = config.log ?? (() => {});
  const docker = new Docker(config.docker ?? { socketPath: '/var/run/docker.sock' });
  const dataDir = path.resolve(config.dataDir);
  const sandboxImage = config.sandboxImage ?? builtSandboxImage();
  const owner = config.ownerId;
  const defaults: SandboxLimits = { ...DEFAULT_LIMITS, ...config.limits };

  /**
   * What makes the inner engine work without --privileged (see sandbox/README.md):
   * Docker's default capabilities + SYS_ADMIN (mounts: overlay, cgroups, bind) + NET_ADMIN (bridges,
   * iptables for the inner engine's networks); our own seccomp profile (Docker's default refuses the keyctl
   * runc needs; see seccomp.ts); a private cgroup
   * namespace; docker-init as PID 1 to reap zombies. Device rules and masked paths stay Docker's defaults.
   */
  // The boundary (userns.ts): a user namespace per sandbox, or, only where the host has none and the
  // host said so, none at all. A remote engine's kernel is not ours to read: its sandboxes try.
  const usable = config.remote ? { ok: true as const } : userNamespacesUsable(readUsernsFacts());
  const boundary: Boundary = config.boundary === 'host' && config.allowHostAccess ? 'host' : usable.ok ? 'userns' : 'host';
  // The host's LSM (lsm.ts): our AppArmor profile where it is loaded, never docker-default (it denies
  // the mounts Docker-in-Docker needs). A remote engine's host is not ours to read.
  const lsm = config.remote ? { ok: true as const, securityOpt: undefined } : decideLsm(readLsmFacts((p) => fs.readFileSync(p, 'utf8')));
  const boundaryRefusal = !usable.ok && !config.allowHostAccess
    ? `sandboxes are refused here: ${usable.reason}. Without a user namespace, root in a sandbox is root on the host; set SANDBOX_ALLOW_HOST_ACCESS=1 only on a machine you would hand to every learner`
    : !lsm.ok ? `sandboxes are refused here: ${lsm.reason}` : undefined;
  /** The environment of every container of the sandbox image (outer-init reads the boundary). */
  const sandboxEnv = [`LABLAB_BOUNDARY=${boundary}`];
  const hostConfigBase: Docker.HostConfig = {
    Init: true,
    CapAdd: ['SYS_ADMIN', 'NET_ADMIN'],
    SecurityOpt: [seccompSecurityOpt(), ...(lsm.ok && lsm.securityOpt ? [lsm.securityOpt] : [])],
    CgroupnsMode: 'private',
    // Only the DNS relay listens in the container's own network namespace (the world has its own):
    // it binds port 53 as nobody without a capability.
    Sysctls: { 'net.ipv4.ip_unprivileged_port_start': '0' },
    LogConfig: { Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '1' } },
  } as Docker.HostConfig;
  if (config.runtime) (hostConfigBase as { Runtime?: string }).Runtime = config.runtime;

  let runtimeChecked: Promise<void> | undefined;
  /** A runtime the engine does not know would fail every create with a 500; say so once, plainly. */
  function checkRuntime(): Promise<void> {
    runtimeChecked ??= (async () => {
      if (!config.runtime) return;
      const info = (await docker.info()) as { Runtimes?: Record<string, unknown> };
      if (!info.Runtimes?.[config.runtime]) {
        runtimeChecked = undefined;
        throw new SandboxError('sandbox_failed', `SANDBOX_RUNTIME=${config.runtime}, but the host engine has no such runtime (it has: ${Object.keys(info.Runtimes ?? {}).join(', ')}); install it and add it to /etc/docker/daemon.json "runtimes", or unset SANDBOX_RUNTIME`);
      }
    })();
    return runtimeChecked;
  }

  const sx = createSandboxExec(docker, ownerUid(boundary));
  const sources = createImageSources({ docker, dir: config.imagesDir ?? path.join(dataDir, 'images'), pull: config.pullImages ?? true, log });
  const siteDeps = { docker, dataDir, sandboxImage, ownerId: owner, hostConfigBase, sandboxEnv, sources, log };
  // The terminal through the engine API (TERMINAL_TRANSPORT=exec, or a sandbox on another host).
  const shell = createShellAttach({ docker, exec: sx.exec, log });
  const site: EngineSite = config.remote
    ? createRemoteSite({ ...siteDeps, sx, shell, allowUnlimited: config.allowUnlimited })
    : createLocalSite({ ...siteDeps, cgroups: config.cgroups, allowUnlimited: config.allowUnlimited, exec: sx.exec, owner: ownerUid(boundary) });
  const egress = createEgressFirewall({ policy: config.egress ?? { mode: 'internet' }, ...site.firewall });
  const networks = createSessionNetworks({
    docker,
    owner,
    pool: config.subnetPool ?? '10.213.0.0/16',
    subnetPrefix: config.subnetPrefix ?? 28,
    egress,
    isolateHost: site.isolateHost,
    log,
  });
  /** Sandboxes being created by this process: their storage exists before their containers do. */
  const creating = new Set<string>();
  const reaper = createReaper({ docker, owner, site, networks, creating, log });

  async function create(spec: SandboxSpec): Promise<SandboxRef> {
    const limits: SandboxLimits = { ...defaults, ...spec.limits, ...(spec.background ? { cpuShares: BACKGROUND_CPU_SHARES } : {}) };
    const id = randomBytes(6).toString('hex');
    /** The id the sandbox ends up with (the site may hand it storage made ahead, under that id). */
    let sid = id;
    const images = spec.images.map(normalizeImageName);
    creating.add(id);
    let container: Docker.Container | undefined;
    const t0 = Date.now();
    const phases: string[] = [];
    const mark = (what: string) => phases.push(`${what} ${Date.now() - t0}`);
    try {
      // First, so a host that cannot hold the boundary or enforce the limits refuses before any disk work.
      if (boundaryRefusal) throw new SandboxError('sandbox_failed', boundaryRefusal);
      await site.check(limits);
      await checkRuntime();
      // The engine creates networks one at a time; overlap that with the disk work.
      const networkP = spec.network ? Promise.resolve(spec.network) : networks.create(spec.sessionId);
      networkP.catch(() => {}); // awaited below; this only prevents an unhandled rejection meanwhile
      const prepared = await site.prepare(id, limits, images, spec.onProgress, mark);
      sid = prepared.id;
      const name = `lablab-sbx-${sid}`;
      const network = await networkP;
      mark('network');
      const hostname = `node${spec.node}`;
      const mem = limits.memoryMiB * 1024 * 1024;
      container = await docker.createContainer({
        name,
        Image: sandboxImage,
        Hostname: hostname,
        Env: [...sandboxEnv, ...(config.registryMirror ? [`LABLAB_REGISTRY_MIRROR=${config.registryMirror}`] : [])],
        Labels: {
          [LABELS.managed]: '1',
          [LABELS.kind]: 'sandbox',
          [LABELS.session]: spec.sessionId,
          [LABELS.node]: String(spec.node),
          [LABELS.expiresAt]: String(spec.expiresAt),
          [LABELS.owner]: owner,
          [SANDBOX_ID_LABEL]: sid,
          [IMAGES_LABEL]: images.join(','),
        },
        HostConfig: {
          ...hostConfigBase,
          ...prepared.hostConfig,
          Memory: mem,
          MemorySwap: mem,
          PidsLimit: limits.pids,
          CpuShares: limits.cpuShares,
          NetworkMode: network,
        },
        NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: [hostname] } } },
      });
      if (spec.assetsDir) {
        // Owned by root in the sandbox whatever their owner on the host.
        const assetsRoot = path.resolve(spec.assetsDir);
        const pack = tarFs.pack(assetsRoot, {
          // The answer key stays on the server (answer-files.ts).
          ignore: (name) => isAnswerFile(path.relative(assetsRoot, name)),
          map: (h) => ({ ...h, uid: 0, gid: 0, uname: 'root', gname: 'root' }),
        });
        await container.putArchive(pack as unknown as NodeJS.ReadableStream, { path: '/root' });
      }
      mark('created');
      await container.start();
      mark('started');
      log(`sandbox ${sid} (node${spec.node}): ${phases.join(', ')} ms`);
      return reaper.refFor(sid, container.id, name, spec.sessionId, spec.node, spec.expiresAt);
    } catch (err) {
      if (container) await container.remove({ force: true, v: true }).catch(() => {});
      await site.release(sid).catch((e) => log(`sandbox ${sid}: cleanup after failed create failed`, e));
      if (err instanceof SandboxError) throw err;
      throw new SandboxError('sandbox_failed', `could not start sandbox node${spec.node}: ${(err as Error).message}`, { cause: err });
    } finally {
      creating.delete(id);
    }
  }

  async function waitReady(ref: SandboxRef, opts: { timeoutMs?: number; images?: string[] } = {}): Promise<void> {
    const deadline = Date.now() + (opts.timeoutMs ?? SANDBOX_TUNING.defaultReadyTimeoutMs);
    let want = opts.images?.map(normalizeImageName);
    if (!want) {
      const info = await docker.getContainer(ref.containerId).inspect();
      want = (info.Config.Labels?.[IMAGES_LABEL] ?? '').split(',').filter(Boolean);
    }
    const client = site.engine(ref);
    let lastErr: unknown;
    let polls = 0;
    while (Date.now() < deadline) {
      try {
        const tags = new Set(await client.imageTags());
        if (want.every((w) => tags.has(w))) return;
        lastErr = new Error(`still missing ${want.filter((w) => !tags.has(w)).join(', ')}`);
      } catch (err) {
        lastErr = err;
      }
      // Fail fast when the sandbox died instead of waiting out the timeout.
      if (++polls % 20 === 0) {
        const st = await reaper.status(ref);
        if (!st?.running) {
          throw new SandboxError('sandbox_failed', `sandbox node${ref.node} stopped while starting (exit ${st?.exitCode ?? '?'}): ${await sx.logsTail(ref)}`);
        }
      }
      await sleep(SANDBOX_TUNING.readyPollMs);
    }
    throw new SandboxError('timeout', `sandbox node${ref.node} was not ready in time: ${(lastErr as Error)?.message ?? 'no answer'}`);
  }

  return {
    create,
    async setCpuShares(ref, shares) {
      // The host parent (cgroupfs driver): a file write, in effect at once.
      site.setCpuShares?.(ref.id, shares);
      // The container's own weight, the one that competes under the systemd driver (its scope) and on a
      // remote engine: the engine runs `runc update` for it, which a room of arrivals would queue up
      // behind each other (30 at once put 1.8 s on the last one's prompt). Not waited for.
      void docker.getContainer(ref.containerId).update({ CpuShares: shares }).catch((err) => log(`sandbox ${ref.id}: could not set its cpu shares to ${shares}`, err));
    },
    waitReady,
    exec: sx.exec,
    ensureShell: (ref) => site.ensureShell(ref),
    attachShell: shell.attachShell,
    ensureShellInSandbox: shell.ensureShellInSandbox,
    engine: (ref) => site.engine(ref),
    connectPort: sx.connectPort,
    getArchive: sx.getArchive,
    putArchive: sx.putArchive,
    status: reaper.status,
    list: reaper.list,
    destroy: reaper.destroy,
    reap: reaper.reap,
    createSessionNetwork: networks.create,
    removeSessionNetwork: networks.remove,
    joinNetwork: networks.join,
    leaveNetwork: networks.leave,
    copyFiles: (ref, hostDir) => site.copyFiles(ref, hostDir),
    prepareImages: (images) => site.prepareImages(images.map(normalizeImageName)),
    dispose: () => site.dispose(),
  };
}
