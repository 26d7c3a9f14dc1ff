// SandboxDriver over the host Docker engine (dockerode). Each sandbox is a Docker-in-Docker container:
//   <dataDir>/sandboxes/<id>/
//     run/      bind-mounted at /run/lab: the inner engine's and the shell's sockets (learner-writable!)
//     attach/   host-only: verified hard links to those sockets; the server connects only to these
//     disk.img  sparse ext4 file on a loop device: the sandbox's disk quota
//     disk/     its mount: docker/ -> /var/lib/docker, root/ -> /root, tmp/ -> /tmp
// Template layers are bind-mounted read-only into disk/docker/overlay2/<layer>/diff (see templates.ts).
import { spawnSync } from 'node:child_process';
import Docker from 'dockerode';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { Duplex } from 'node:stream';
import * as tarFs from 'tar-fs';
import { SandboxError } from './errors.ts';
import { isAnswerFile } from './answer-files.ts';
import { builtSandboxImage } from './image-tag.ts';
import { Demuxer, stdoutOf } from './demux.ts';
import { seccompSecurityOpt } from './seccomp.ts';
import { createEngineClient } from './engine-client.ts';
import { createEgressFirewall, egressTag, type EgressPolicy } from './egress.ts';
import { createCgroupManager, disk, engineCgroupInfo, type CgroupManager } from './host.ts';
import { linkSocket } from './safe-socket.ts';
import { createShellAttach } from './shell-attach.ts';
import { nextFreeSubnet } from './subnets.ts';
import { createTemplateStore, normalizeImageName } from './templates.ts';
import { createImageSources } from './image-sources.ts';
import {
  LABEL_PREFIX,
  LABELS,
  type EngineClient,
  type ExecOptions,
  type ExecResult,
  type SandboxArchive,
  type SandboxDriver,
  type SandboxLimits,
  type SandboxRef,
  type SandboxShell,
  type SandboxSpec,
  type SandboxStatus,
} from './types.ts';
import { statusOf } from './engine-status.ts';

/** Tuning constants for the driver, each with its reason. */
export const SANDBOX_TUNING = {
  /** How often waitReady polls the inner engine; it answers ~0.5 s after start. */
  readyPollMs: 50,
  defaultReadyTimeoutMs: 60_000,
  defaultExecTimeoutMs: 60_000,
  /** Host-side grace after an exec's own `timeout -s KILL` should have fired. */
  execGraceMs: 3_000,
  defaultMaxOutputBytes: 1024 * 1024,
  /** How long ensureShell waits for a fresh dtach master to create its socket. */
  shellStartMs: 5_000,
  /** Unix socket paths longer than this (sun_path is 108 bytes) cannot be connected to. */
  maxSocketPath: 100,
} as const;

/** The PATH of every exec the server runs in a sandbox. */
const EXEC_PATH = 'PATH=/usr/sbin:/usr/bin:/sbin:/bin';

/** Driver-internal labels (not part of the shared contract). */
const SANDBOX_ID_LABEL = `${LABEL_PREFIX}.sandbox`;
/** A sandbox dir without a container is only removed once this old (another server may be creating it). */
const ORPHAN_DIR_MIN_AGE_MS = 2 * 60_000;
const IMAGES_LABEL = `${LABEL_PREFIX}.images`;

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
  /** Host cgroups (the hard limits' parent); by default made from this host engine and /sys/fs/cgroup. */
  cgroups?: CgroupManager;
  /** Start sandboxes even where their limits cannot be enforced (SANDBOX_ALLOW_UNLIMITED=1). */
  allowUnlimited?: boolean;
  /** What sandboxes may reach outside their session (SANDBOX_EGRESS); default: the internet, no private ranges. */
  egress?: EgressPolicy;
  /** A host engine runtime instead of runc (SANDBOX_RUNTIME, e.g. sysbox-runc); refused when the engine lacks it. */
  runtime?: string;
  log?: (msg: string, err?: unknown) => void;
}

export const DEFAULT_LIMITS: SandboxLimits = { memoryMiB: 2048, pids: 1024, cpuShares: 512, diskGiB: 8 };

/** 404 (gone) and 304 (already in that state) count as success for teardown. */
async function idempotent(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    const s = statusOf(err);
    if (s !== 404 && s !== 304) throw err;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function canConnect(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(socketPath);
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.setTimeout(2_000, () => done(false));
  });
}

export function createDockerSandboxDriver(config: DockerSandboxDriverConfig): SandboxDriver & SandboxArchive & SandboxShell {
  const log = config.log ?? (() => {});
  const docker = new Docker(config.docker ?? { socketPath: '/var/run/docker.sock' });
  const dataDir = path.resolve(config.dataDir);
  const sandboxesDir = path.join(dataDir, 'sandboxes');
  const sandboxImage = config.sandboxImage ?? builtSandboxImage();
  const owner = config.ownerId;
  const pool = config.subnetPool ?? '10.213.0.0/16';
  const subnetPrefix = config.subnetPrefix ?? 28;
  const defaults: SandboxLimits = { ...DEFAULT_LIMITS, ...config.limits };
  const cgroups = config.cgroups ?? createCgroupManager({ engineInfo: () => engineCgroupInfo(docker), allowUnlimited: config.allowUnlimited, log });

  if (path.join(sandboxesDir, 'x'.repeat(12), 'attach', 'docker.sock').length > SANDBOX_TUNING.maxSocketPath) {
    throw new SandboxError('bad_request', `dataDir "${dataDir}" is too long: sandbox socket paths would exceed ${SANDBOX_TUNING.maxSocketPath} bytes; use a shorter path`);
  }

  /**
   * What makes the inner engine work without --privileged (see sandbox/README.md):
   * Docker's default capabilities + SYS_ADMIN (mounts: overlay, cgroups, bind) + NET_ADMIN (bridges,
   * iptables for the inner engine's networks); our own seccomp profile (Docker's default refuses the keyctl
   * runc needs; see seccomp.ts); a private cgroup
   * namespace; docker-init as PID 1 to reap zombies. Device rules and masked paths stay Docker's defaults.
   */
  const hostConfigBase: Docker.HostConfig = {
    Init: true,
    CapAdd: ['SYS_ADMIN', 'NET_ADMIN'],
    SecurityOpt: [seccompSecurityOpt()],
    CgroupnsMode: 'private',
    LogConfig: { Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '1' } },
  } as Docker.HostConfig;

  const egress = createEgressFirewall({ policy: config.egress ?? { mode: 'internet' } });
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

  const sources = createImageSources({ docker, dir: config.imagesDir ?? path.join(dataDir, 'images'), pull: config.pullImages ?? true, log });
  const templates = createTemplateStore({ docker, dataDir, sandboxImage, ownerId: owner, hostConfigBase, log, sources });
  const engines = new Map<string, EngineClient>();
  /** Sandboxes being created by this process: their dirs exist before their containers do. */
  const creating = new Set<string>();

  const dirOf = (id: string) => path.join(sandboxesDir, id);

  function refFor(id: string, containerId: string, name: string, sessionId: string, node: number, expiresAt: number): SandboxRef {
    const dir = dirOf(id);
    return {
      id,
      containerId,
      name,
      sessionId,
      node,
      socketDir: path.join(dir, 'run'),
      engineSocket: path.join(dir, 'attach', 'docker.sock'),
      terminalSocket: path.join(dir, 'attach', 'term.sock'),
      workdir: '/root',
      expiresAt,
    };
  }

  const networkName = (sessionId: string) =>
    `lablab-${owner}-${sessionId.replace(/[^a-zA-Z0-9_.-]/g, '').slice(0, 24)}-${createHash('sha256').update(sessionId).digest('hex').slice(0, 8)}`;

  /** Subnets handed out by this process whose networks may not be listed by the engine yet. */
  const reserved = new Set<string>();
  const pendingNets = new Map<string, Promise<string>>();

  // Sandboxes reach the internet (NAT, through FORWARD) but not the host's own services: packets
  // from the pool addressed to the host itself go through INPUT, where this rule turns them away.
  let hostIsolation: Promise<void> | undefined;
  function isolateHost(): Promise<void> {
    hostIsolation ??= (async () => {
      const rule = ['INPUT', '-s', pool, '-m', 'conntrack', '--ctstate', 'NEW', '-j', 'REJECT', '-m', 'comment', '--comment', 'lablab: sandboxes may not reach host services'];
      const present = spawnSync('iptables', ['-C', ...rule], { stdio: 'ignore' }).status === 0;
      if (present) return;
      const r = spawnSync('iptables', ['-I', ...rule], { encoding: 'utf8' });
      if (r.status !== 0) log(`could not add the host-isolation firewall rule (sandboxes can reach host services): ${r.stderr?.trim() || r.error?.message}`);
    })();
    return hostIsolation;
  }

  async function createSessionNetwork(sessionId: string): Promise<string> {
    await isolateHost();
    const name = networkName(sessionId);
    let p = pendingNets.get(name);
    if (!p) {
      p = ensureNetwork(sessionId, name).finally(() => pendingNets.delete(name));
      pendingNets.set(name, p);
    }
    return p;
  }

  async function ensureNetwork(sessionId: string, name: string): Promise<string> {
    try {
      await applyEgress(await docker.getNetwork(name).inspect());
      return name;
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
    }
    // Subnets are chosen in-process (so concurrent creates don't wait on each other); the engine
    // still rejects an overlap with another process's network, and we then pick again.
    // A subnet that overlapped is skipped on the next attempt: another process's network may still
    // be in creation, so the engine refuses it before it shows up in the listing.
    const overlapped: string[] = [];
    for (let attempt = 0; attempt < 20; attempt++) {
      const listed = (await docker.listNetworks()).flatMap((n) => (n.IPAM?.Config ?? []).map((c) => c.Subnet).filter((s): s is string => !!s));
      const sub = nextFreeSubnet(pool, subnetPrefix, [...listed, ...reserved, ...overlapped]);
      if (!sub) throw new SandboxError('capacity', `no free subnet left in ${pool}; remove old session networks or widen the pool`);
      reserved.add(sub.subnet);
      try {
        await docker.createNetwork({
          Name: name,
          Driver: 'bridge',
          CheckDuplicate: true,
          IPAM: { Driver: 'default', Config: [{ Subnet: sub.subnet, Gateway: sub.gateway }] },
          Labels: { [LABELS.managed]: '1', [LABELS.kind]: 'session-network', [LABELS.session]: sessionId, [LABELS.owner]: owner },
        });
        await applyEgress(await docker.getNetwork(name).inspect());
        return name;
      } catch (err) {
        if (err instanceof SandboxError) throw err;
        if (statusOf(err) === 409) {
          await applyEgress(await docker.getNetwork(name).inspect()); // created by someone else meanwhile
          return name;
        }
        if (/overlap/i.test(String((err as Error).message))) {
          overlapped.push(sub.subnet);
          continue;
        }
        throw new SandboxError('sandbox_failed', `cannot create network for session ${sessionId}: ${(err as Error).message}`, { cause: err });
      } finally {
        reserved.delete(sub.subnet);
      }
    }
    throw new SandboxError('sandbox_failed', `cannot find a free subnet for session ${sessionId}`);
  }

  /** The session's egress rules, on its bridge; a network without them is not handed out (fail closed). */
  async function applyEgress(info: Docker.NetworkInspectInfo): Promise<void> {
    const opts = (info.Options ?? {}) as Record<string, string>;
    const bridge = opts['com.docker.network.bridge.name'] || `br-${info.Id.slice(0, 12)}`;
    await egress.apply(egressTag(info.Name), bridge);
  }

  async function removeSessionNetwork(sessionId: string): Promise<void> {
    await idempotent(docker.getNetwork(networkName(sessionId)).remove());
    await egress.remove(egressTag(networkName(sessionId)));
  }

  async function create(spec: SandboxSpec): Promise<SandboxRef> {
    const limits: SandboxLimits = { ...defaults, ...spec.limits };
    const id = randomBytes(6).toString('hex');
    const name = `lablab-sbx-${id}`;
    const dir = dirOf(id);
    const images = spec.images.map(normalizeImageName);
    creating.add(id);
    let container: Docker.Container | undefined;
    const t0 = Date.now();
    const phases: string[] = [];
    const mark = (what: string) => phases.push(`${what} ${Date.now() - t0}`);
    try {
      // First, so a host that cannot enforce the limits refuses before any disk work.
      await cgroups.check(limits);
      await checkRuntime();
      fs.mkdirSync(path.join(dir, 'run'), { recursive: true });
      fs.mkdirSync(path.join(dir, 'attach'), { recursive: true, mode: 0o700 });
      // The engine creates networks one at a time; overlap that with the disk work.
      const networkP = spec.network ? Promise.resolve(spec.network) : createSessionNetwork(spec.sessionId);
      networkP.catch(() => {}); // awaited below; this only prevents an unhandled rejection meanwhile
      const tmpl = await templates.ensure(images, spec.onProgress);
      mark('template');
      await disk(['prepare', dir, String(limits.diskGiB), ...(tmpl ? [tmpl] : [])]);
      // Which template this sandbox's binds come from, so pruning never removes one in use.
      if (tmpl) fs.writeFileSync(path.join(dir, 'template'), path.basename(tmpl));
      mark('disk');
      const cgroupParent = await cgroups.prepare(id, limits);
      const network = await networkP;
      mark('network');
      const hostname = `node${spec.node}`;
      const mem = limits.memoryMiB * 1024 * 1024;
      container = await docker.createContainer({
        name,
        Image: sandboxImage,
        Hostname: hostname,
        ...(config.registryMirror ? { Env: [`LABLAB_REGISTRY_MIRROR=${config.registryMirror}`] } : {}),
        Labels: {
          [LABELS.managed]: '1',
          [LABELS.kind]: 'sandbox',
          [LABELS.session]: spec.sessionId,
          [LABELS.node]: String(spec.node),
          [LABELS.expiresAt]: String(spec.expiresAt),
          [LABELS.owner]: owner,
          [SANDBOX_ID_LABEL]: id,
          [IMAGES_LABEL]: images.join(','),
        },
        HostConfig: {
          ...hostConfigBase,
          CgroupParent: cgroupParent,
          Memory: mem,
          MemorySwap: mem,
          PidsLimit: limits.pids,
          CpuShares: limits.cpuShares,
          NetworkMode: network,
          // The only host paths in the sandbox: its own socket dir and its own loop disk.
          Binds: [
            `${path.join(dir, 'run')}:/run/lab`,
            `${path.join(dir, 'disk', 'docker')}:/var/lib/docker`,
            `${path.join(dir, 'disk', 'root')}:/root`,
            `${path.join(dir, 'disk', 'tmp')}:/tmp`,
          ],
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
      log(`sandbox ${id} (node${spec.node}): ${phases.join(', ')} ms`);
      return refFor(id, container.id, name, spec.sessionId, spec.node, spec.expiresAt);
    } catch (err) {
      if (container) await container.remove({ force: true, v: true }).catch(() => {});
      await disk(['release', dir]).catch((e) => log(`sandbox ${id}: cleanup after failed create failed`, e));
      cgroups.remove(id);
      if (err instanceof SandboxError) throw err;
      throw new SandboxError('sandbox_failed', `could not start sandbox node${spec.node}: ${(err as Error).message}`, { cause: err });
    } finally {
      creating.delete(id);
    }
  }

  function engine(ref: SandboxRef): EngineClient {
    let e = engines.get(ref.id);
    if (!e) {
      const inSandbox = path.join(ref.socketDir, 'docker.sock');
      e = createEngineClient({ socketPath: ref.engineSocket, beforeConnect: () => linkSocket(inSandbox, ref.engineSocket) });
      engines.set(ref.id, e);
    }
    return e;
  }

  async function logsTail(ref: SandboxRef): Promise<string> {
    try {
      const raw = (await docker.getContainer(ref.containerId).logs({ stdout: true, stderr: true, tail: 20 })) as unknown as Buffer;
      const d = new Demuxer(64 * 1024);
      d.push(raw);
      return (d.stdout() + d.stderr()).trim();
    } catch {
      return '';
    }
  }

  async function waitReady(ref: SandboxRef, opts: { timeoutMs?: number; images?: string[] } = {}): Promise<void> {
    const deadline = Date.now() + (opts.timeoutMs ?? SANDBOX_TUNING.defaultReadyTimeoutMs);
    let want = opts.images?.map(normalizeImageName);
    if (!want) {
      const info = await docker.getContainer(ref.containerId).inspect();
      want = (info.Config.Labels?.[IMAGES_LABEL] ?? '').split(',').filter(Boolean);
    }
    const client = engine(ref);
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
        const st = await status(ref);
        if (!st?.running) {
          throw new SandboxError('sandbox_failed', `sandbox node${ref.node} stopped while starting (exit ${st?.exitCode ?? '?'}): ${await logsTail(ref)}`);
        }
      }
      await sleep(SANDBOX_TUNING.readyPollMs);
    }
    throw new SandboxError('timeout', `sandbox node${ref.node} was not ready in time: ${(lastErr as Error)?.message ?? 'no answer'}`);
  }

  async function exec(ref: SandboxRef, cmd: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const timeoutMs = opts.timeoutMs ?? SANDBOX_TUNING.defaultExecTimeoutMs;
    const maxOut = opts.maxOutputBytes ?? SANDBOX_TUNING.defaultMaxOutputBytes;
    const hasStdin = opts.stdin !== undefined;
    // coreutils timeout runs the command in its own process group and kills the whole group.
    const secs = Math.max(1, Math.ceil(timeoutMs / 1000));
    const ex = await docker.getContainer(ref.containerId).exec({
      // Absolute, and a PATH without /usr/local: a learner (root inside) who drops a `timeout`, `sh`
      // or `test` into /usr/local/bin must not answer for the server's checks.
      Cmd: ['/usr/bin/timeout', '-s', 'KILL', String(secs), ...cmd],
      AttachStdout: true,
      AttachStderr: true,
      AttachStdin: hasStdin,
      Tty: false,
      Env: [EXEC_PATH, ...(opts.env ?? [])],
      WorkingDir: opts.workdir ?? ref.workdir,
    });
    const started = Date.now();
    const stream = (await ex.start({ hijack: true, stdin: hasStdin })) as Duplex;
    const d = new Demuxer(maxOut);
    let hostTimedOut = false;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        hostTimedOut = true;
        stream.destroy();
        resolve();
      }, timeoutMs + SANDBOX_TUNING.execGraceMs);
      stream.on('data', (c: Buffer) => d.push(c));
      stream.on('end', () => {
        clearTimeout(timer);
        resolve();
      });
      stream.on('close', () => {
        clearTimeout(timer);
        resolve();
      });
      stream.on('error', (err) => {
        clearTimeout(timer);
        if (hostTimedOut) resolve();
        else reject(new SandboxError('sandbox_failed', `exec in node${ref.node} failed: ${err.message}`, { cause: err }));
      });
      if (hasStdin) stream.end(opts.stdin);
    });
    let exitCode = -1;
    for (let i = 0; i < 20; i++) {
      const info = await ex.inspect();
      if (!info.Running) {
        exitCode = info.ExitCode ?? -1;
        break;
      }
      if (hostTimedOut) break;
      await sleep(25);
    }
    const timedOut = hostTimedOut || (exitCode === 137 && Date.now() - started >= timeoutMs - 50);
    return { exitCode, stdout: d.stdout(), stderr: d.stderr(), timedOut };
  }

  async function connectPort(ref: SandboxRef, port: number): Promise<Duplex> {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new SandboxError('bad_request', `There is no port ${port}.`);
    // bash's /dev/tcp opens the connection inside the sandbox; two cats relay it over the exec's stdio.
    const ex = await docker.getContainer(ref.containerId).exec({
      Cmd: ['bash', '-c', 'exec 3<>"/dev/tcp/127.0.0.1/$0" || exit 7; cat <&3 & cat >&3; wait', String(port)],
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
    });
    const raw = (await ex.start({ hijack: true, stdin: true })) as Duplex;
    const readable = raw.pipe(stdoutOf());
    raw.on('error', (err) => readable.destroy(err));
    return Duplex.from({ readable, writable: raw });
  }

  async function getArchive(ref: SandboxRef, p: string): Promise<import('node:stream').Readable> {
    try {
      return (await docker.getContainer(ref.containerId).getArchive({ path: p })) as unknown as import('node:stream').Readable;
    } catch (err) {
      if (statusOf(err) === 404) throw new SandboxError('not_found', `There is no ${p} in node${ref.node}.`);
      throw new SandboxError('sandbox_failed', `could not read ${p} from node${ref.node}: ${(err as Error).message}`, { cause: err });
    }
  }

  async function putArchive(ref: SandboxRef, dir: string, tar: import('node:stream').Readable): Promise<void> {
    try {
      // noOverwriteDirNonDir: a file never replaces a folder (or the other way round) by accident.
      await docker.getContainer(ref.containerId).putArchive(tar as unknown as NodeJS.ReadableStream, { path: dir, noOverwriteDirNonDir: true });
    } catch (err) {
      if (statusOf(err) === 404) throw new SandboxError('not_found', `There is no folder ${dir} in node${ref.node}.`);
      throw new SandboxError('sandbox_failed', `could not write into ${dir} in node${ref.node}: ${(err as Error).message}`, { cause: err });
    }
  }

  const shellStarts = new Map<string, Promise<void>>();

  /** Single-flight per sandbox: two tabs attaching at once must not start two shells. */
  function ensureShell(ref: SandboxRef): Promise<void> {
    let p = shellStarts.get(ref.id);
    if (!p) {
      p = ensureShellOnce(ref).finally(() => shellStarts.delete(ref.id));
      shellStarts.set(ref.id, p);
    }
    return p;
  }

  async function ensureShellOnce(ref: SandboxRef): Promise<void> {
    const inSandbox = path.join(ref.socketDir, 'term.sock');
    const alive = async (): Promise<boolean> => {
      try {
        linkSocket(inSandbox, ref.terminalSocket);
      } catch (err) {
        if (err instanceof SandboxError && err.code === 'forbidden') throw err;
        return false;
      }
      return canConnect(ref.terminalSocket);
    };
    if (await alive()) return;
    const r = await exec(ref, ['/usr/local/sbin/lablab-shell'], { timeoutMs: 10_000 });
    if (r.exitCode !== 0) throw new SandboxError('sandbox_failed', `could not start the shell in node${ref.node}: ${r.stderr.trim()}`);
    const deadline = Date.now() + SANDBOX_TUNING.shellStartMs;
    while (Date.now() < deadline) {
      if (await alive()) return;
      await sleep(25);
    }
    throw new SandboxError('sandbox_failed', `the shell in node${ref.node} did not start`);
  }

  async function status(ref: SandboxRef): Promise<SandboxStatus | null> {
    let info: Docker.ContainerInspectInfo;
    try {
      info = await docker.getContainer(ref.containerId).inspect();
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw err;
    }
    const running = info.State.Running;
    return {
      running,
      exitCode: running ? undefined : info.State.ExitCode,
      memoryBytes: running ? cgroups.memoryBytes(ref.id) : undefined,
      oomKilled: info.State.OOMKilled,
    };
  }

  async function listContainers(kind: string): Promise<Docker.ContainerInfo[]> {
    return docker.listContainers({
      all: true,
      filters: { label: [`${LABELS.managed}=1`, `${LABELS.kind}=${kind}`, `${LABELS.owner}=${owner}`] },
    });
  }

  async function list(): Promise<SandboxRef[]> {
    return (await listContainers('sandbox')).map((c) => {
      const l = c.Labels ?? {};
      const name = (c.Names?.[0] ?? '').replace(/^\//, '');
      const id = l[SANDBOX_ID_LABEL] ?? name.replace(/^lablab-sbx-/, '');
      return refFor(id, c.Id, name, l[LABELS.session] ?? '', Number(l[LABELS.node] ?? 0), Number(l[LABELS.expiresAt] ?? 0));
    });
  }

  async function destroy(ref: SandboxRef): Promise<void> {
    engines.delete(ref.id);
    const container = docker.getContainer(ref.containerId);
    try {
      await idempotent(container.remove({ force: true, v: true }));
    } catch (err) {
      if (statusOf(err) !== 409) throw err;
      // Someone else's removal is in flight: wait for it, then release the disk ourselves.
      for (let i = 0; i < 300; i++) {
        try {
          await container.inspect();
        } catch (e) {
          if (statusOf(e) === 404) break;
          throw e;
        }
        await sleep(100);
      }
    }
    await disk(['release', dirOf(ref.id)]);
    cgroups.remove(ref.id);
  }

  function inUseTemplates(): Set<string> {
    const keys = new Set<string>();
    for (const id of fs.existsSync(sandboxesDir) ? fs.readdirSync(sandboxesDir) : []) {
      try {
        keys.add(fs.readFileSync(path.join(dirOf(id), 'template'), 'utf8').trim());
      } catch {
        // no template (a sandbox without images) or a half-created dir
      }
    }
    return keys;
  }

  async function reap(opts: { now: number; isLive: (sessionId: string) => boolean }): Promise<string[]> {
    const reaped: string[] = [];
    const refs = await list();
    for (const ref of refs) {
      if (ref.expiresAt > opts.now && opts.isLive(ref.sessionId)) continue;
      try {
        await destroy(ref);
        reaped.push(ref.id);
      } catch (err) {
        log(`reap: could not destroy sandbox ${ref.id}`, err);
      }
    }
    // Leftovers of a process killed mid-create or mid-destroy: a dir or cgroup without a container.
    // Several servers (owners) may share one data dir: a dir is an orphan only if no container of ANY
    // owner claims it, and it is old enough not to be another process's create in flight.
    const known = new Set(refs.map((r) => r.id));
    for (const c of await docker.listContainers({ all: true, filters: { label: [`${LABELS.managed}=1`, `${LABELS.kind}=sandbox`] } })) {
      const id = c.Labels?.[SANDBOX_ID_LABEL];
      if (id) known.add(id);
    }
    const oldEnough = (id: string) => {
      try {
        return opts.now - fs.statSync(dirOf(id)).mtimeMs > ORPHAN_DIR_MIN_AGE_MS;
      } catch {
        return false;
      }
    };
    let dirs: string[] = [];
    try {
      dirs = fs.readdirSync(sandboxesDir);
    } catch {
      // no sandboxes dir yet
    }
    for (const id of dirs) {
      if (known.has(id) || creating.has(id) || !oldEnough(id)) continue;
      await disk(['release', dirOf(id)]).catch((e) => log(`reap: could not remove ${id}`, e));
      cgroups.remove(id);
      reaped.push(id);
    }
    for (const id of cgroups.list()) if (!known.has(id) && !creating.has(id)) cgroups.remove(id);
    for (const c of await listContainers('template-builder')) {
      if (c.State === 'running' && opts.now - c.Created * 1000 < 30 * 60_000) continue; // maybe ours, still building
      await idempotent(docker.getContainer(c.Id).remove({ force: true }));
    }
    await templates.reapPartialBuilds();
    await templates.prune(inUseTemplates()).catch((e) => log('reap: template pruning failed', e));
    const nets = await docker.listNetworks({
      filters: { label: [`${LABELS.managed}=1`, `${LABELS.kind}=session-network`, `${LABELS.owner}=${owner}`] },
    });
    const liveSessions = new Set((await list()).map((r) => r.sessionId));
    for (const n of nets) {
      const sid = n.Labels?.[LABELS.session] ?? '';
      if (liveSessions.has(sid) || opts.isLive(sid)) continue;
      await idempotent(docker.getNetwork(n.Id).remove()).catch((e) => log(`reap: could not remove network ${n.Name}`, e));
    }
    // Egress rules whose network is gone (a server killed between the two removals), whoever's they were.
    const present = new Set((await docker.listNetworks()).map((n) => egressTag(n.Name)));
    for (const tag of await egress.tags().catch(() => [])) {
      if (!present.has(tag)) await egress.remove(tag).catch((e) => log(`reap: could not remove egress rules ${tag}`, e));
    }
    return reaped;
  }

  // The terminal through the engine API (TERMINAL_TRANSPORT=exec, or a sandbox on another host).
  const shell = createShellAttach({ docker, exec, log });

  return {
    create,
    waitReady,
    exec,
    ensureShell,
    attachShell: shell.attachShell,
    ensureShellInSandbox: shell.ensureShellInSandbox,
    engine,
    connectPort,
    getArchive,
    putArchive,
    status,
    list,
    destroy,
    reap,
    createSessionNetwork,
    removeSessionNetwork,
    async joinNetwork(ref: SandboxRef, network: string, alias: string) {
      try {
        await docker.getNetwork(network).connect({ Container: ref.containerId, EndpointConfig: { Aliases: [alias] } });
      } catch (err) {
        throw new SandboxError('sandbox_failed', `could not connect node${ref.node} to ${network}: ${(err as Error).message}`, { cause: err });
      }
    },
    async leaveNetwork(ref: SandboxRef, network: string) {
      await idempotent(docker.getNetwork(network).disconnect({ Container: ref.containerId, Force: true }));
    },
    async copyFiles(ref: SandboxRef, hostDir: string) {
      // /root is the sandbox's disk/root on the host: a plain copy costs no exec (a runc start each),
      // which is what 30 learners arriving at once would otherwise queue behind.
      const dest = path.join(dirOf(ref.id), 'disk', 'root');
      if (fs.lstatSync(dest).isSymbolicLink()) throw new SandboxError('forbidden', `sandbox ${ref.id}: its home folder is a symlink`);
      for (const name of fs.readdirSync(hostDir)) {
        const target = path.join(dest, name);
        const st = fs.lstatSync(target, { throwIfNoEntry: false });
        if (st?.isSymbolicLink()) throw new SandboxError('forbidden', `sandbox ${ref.id}: ${name} in its home folder is a symlink`);
        await fs.promises.cp(path.join(hostDir, name), target, { recursive: true, force: true, dereference: false, verbatimSymlinks: true });
      }
    },
    async prepareImages(images: string[]) {
      await templates.ensure(images.map(normalizeImageName));
    },
    async dispose() {
      engines.clear();
      await templates.unmountAll();
    },
  };
}
