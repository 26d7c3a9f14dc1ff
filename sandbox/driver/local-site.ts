// The local engine site: the engine runs on this host, so a sandbox gets a loop-file disk (its size
// cap) with the template's layers bind-mounted read-only, a host cgroup parent holding its limits,
// a socket folder the server connects to, and this host's iptables.
//   <dataDir>/sandboxes/<id>/
//     run/      bind-mounted at /run/lab: the inner engine's and the shell's sockets (learner-writable!)
//     attach/   host-only: verified hard links to those sockets; the server connects only to these
//     disk.img  sparse ext4 file on a loop device: the sandbox's disk quota
//     disk/     its mount: docker/ -> /var/lib/docker, root/ -> /root, tmp/ -> /tmp
import type Docker from 'dockerode';
import fs from 'node:fs';
import path from 'node:path';
import { runCommand } from './command-runner.ts';
import { createEngineClient } from './engine-client.ts';
import type { EngineSite } from './engine-site.ts';
import { SandboxError } from './errors.ts';
import { createCgroupManager, disk, engineCgroupInfo, type CgroupManager } from './host.ts';
import type { ImageSources } from './image-sources.ts';
import { linkSocket } from './safe-socket.ts';
import { hostIsolationRule } from './networks.ts';
import { createLocalShell } from './shell.ts';
import { createTemplateStore } from './templates.ts';
import type { EngineClient, ExecOptions, ExecResult, SandboxRef } from './types.ts';

/** Unix socket paths longer than this (sun_path is 108 bytes) cannot be connected to. */
export const MAX_SOCKET_PATH = 100;
/** A sandbox dir without a container is only removed once this old (another server may be creating it). */
const ORPHAN_DIR_MIN_AGE_MS = 2 * 60_000;

export interface LocalSiteDeps {
  docker: Docker;
  dataDir: string;
  sandboxImage: string;
  ownerId: string;
  hostConfigBase: Docker.HostConfig;
  /** The environment of every container of the sandbox image. */
  sandboxEnv?: string[];
  sources: ImageSources;
  cgroups?: CgroupManager;
  allowUnlimited?: boolean;
  exec(ref: SandboxRef, cmd: string[], opts?: ExecOptions): Promise<ExecResult>;
  /** The host uid of a sandbox's root (userns.ts): what the server copies in belongs to it. */
  owner: number;
  log: (msg: string, err?: unknown) => void;
}

/** lchown a copied tree: never follows a symlink out of it. */
async function chownTree(p: string, uid: number): Promise<void> {
  await fs.promises.lchown(p, uid, uid);
  const st = await fs.promises.lstat(p);
  if (!st.isDirectory()) return;
  for (const name of await fs.promises.readdir(p)) await chownTree(path.join(p, name), uid);
}

export function createLocalSite(deps: LocalSiteDeps): EngineSite {
  const { docker, dataDir, log } = deps;
  const sandboxesDir = path.join(dataDir, 'sandboxes');
  if (path.join(sandboxesDir, 'x'.repeat(12), 'attach', 'docker.sock').length > MAX_SOCKET_PATH) {
    throw new SandboxError('bad_request', `dataDir "${dataDir}" is too long: sandbox socket paths would exceed ${MAX_SOCKET_PATH} bytes; use a shorter path`);
  }
  const cgroups = deps.cgroups ?? createCgroupManager({ engineInfo: () => engineCgroupInfo(docker), allowUnlimited: deps.allowUnlimited, log });
  const templates = createTemplateStore({ docker, dataDir, sandboxImage: deps.sandboxImage, ownerId: deps.ownerId, hostConfigBase: deps.hostConfigBase, sandboxEnv: deps.sandboxEnv, log, sources: deps.sources });
  const engines = new Map<string, EngineClient>();
  const shell = createLocalShell(deps.exec);
  const dirOf = (id: string) => path.join(sandboxesDir, id);

  let hostIsolation: Promise<void> | undefined;
  function isolateHost(pool: string): Promise<void> {
    hostIsolation ??= (async () => {
      const rule = hostIsolationRule(pool);
      const present = (await runCommand('iptables', ['-C', ...rule], { timeoutMs: 30_000 })).code === 0;
      if (present) return;
      const r = await runCommand('iptables', ['-I', ...rule], { timeoutMs: 30_000 });
      if (r.code !== 0) log(`could not add the host-isolation firewall rule (sandboxes can reach host services): ${r.stderr.trim() || r.error || `exit ${r.code ?? r.signal}`}`);
    })();
    return hostIsolation;
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

  async function release(id: string): Promise<void> {
    await disk(['release', dirOf(id)]);
    cgroups.remove(id);
  }

  return {
    remote: false,
    // First in a create, so a host that cannot enforce the limits refuses before any disk work.
    check: (limits) => cgroups.check(limits),
    async prepare(id, limits, images, onProgress, mark) {
      const dir = dirOf(id);
      fs.mkdirSync(path.join(dir, 'run'), { recursive: true });
      fs.mkdirSync(path.join(dir, 'attach'), { recursive: true, mode: 0o700 });
      const tmpl = await templates.ensure(images, onProgress);
      mark?.('template');
      await disk(['prepare', dir, String(limits.diskGiB), ...(tmpl ? [tmpl] : [])]);
      // Which template this sandbox's binds come from, so pruning never removes one in use.
      if (tmpl) fs.writeFileSync(path.join(dir, 'template'), path.basename(tmpl));
      mark?.('disk');
      const cgroupParent = await cgroups.prepare(id, limits);
      return {
        id,
        hostConfig: {
          CgroupParent: cgroupParent,
          // The only host paths in the sandbox: its own socket dir and its own loop disk.
          Binds: [
            `${path.join(dir, 'run')}:/run/lab`,
            `${path.join(dir, 'disk', 'docker')}:/var/lib/docker`,
            `${path.join(dir, 'disk', 'root')}:/root`,
            `${path.join(dir, 'disk', 'tmp')}:/tmp`,
          ],
        },
      };
    },
    release,
    paths(id) {
      const dir = dirOf(id);
      return { socketDir: path.join(dir, 'run'), engineSocket: path.join(dir, 'attach', 'docker.sock'), terminalSocket: path.join(dir, 'attach', 'term.sock') };
    },
    engine(ref) {
      let e = engines.get(ref.id);
      if (!e) {
        const inSandbox = path.join(ref.socketDir, 'docker.sock');
        e = createEngineClient({ socketPath: ref.engineSocket, beforeConnect: () => linkSocket(inSandbox, ref.engineSocket) });
        engines.set(ref.id, e);
      }
      return e;
    },
    forget: (id) => void engines.delete(id),
    ensureShell: shell.ensureShell,
    async copyFiles(ref, hostDir) {
      // /root is the sandbox's disk/root on the host: a plain copy costs no exec (a runc start each),
      // which is what 30 learners arriving at once would otherwise queue behind.
      const dest = path.join(dirOf(ref.id), 'disk', 'root');
      if (fs.lstatSync(dest).isSymbolicLink()) throw new SandboxError('forbidden', `sandbox ${ref.id}: its home folder is a symlink`);
      for (const name of fs.readdirSync(hostDir)) {
        const target = path.join(dest, name);
        const st = fs.lstatSync(target, { throwIfNoEntry: false });
        if (st?.isSymbolicLink()) throw new SandboxError('forbidden', `sandbox ${ref.id}: ${name} in its home folder is a symlink`);
        await fs.promises.cp(path.join(hostDir, name), target, { recursive: true, force: true, dereference: false, verbatimSymlinks: true });
        await chownTree(target, deps.owner);
      }
    },
    memoryBytes: (id) => cgroups.memoryBytes(id),
    setCpuShares: (id, shares) => void cgroups.setCpuShares(id, shares),
    firewall: {},
    isolateHost,
    async reapOrphans(known, creating, now) {
      // Leftovers of a process killed mid-create or mid-destroy: a dir or cgroup without a container.
      // Several servers (owners) may share one data dir: a dir is an orphan only if no container of ANY
      // owner claims it, and it is old enough not to be another process's create in flight, unless no
      // other live process uses the data dir (then it is a dead one's whatever its age).
      const reaped: string[] = [];
      await templates.join();
      const alone = !(await templates.othersPresent());
      const oldEnough = (id: string) => {
        if (alone) return true;
        try {
          return now - fs.statSync(dirOf(id)).mtimeMs > ORPHAN_DIR_MIN_AGE_MS;
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
      await templates.reapPartialBuilds();
      await templates.unmountAbandoned(inUseTemplates()).catch((e) => log('reap: unmounting abandoned templates failed', e));
      await templates.prune(inUseTemplates()).catch((e) => log('reap: template pruning failed', e));
      return reaped;
    },
    async prepareImages(images) {
      await templates.ensure(images);
    },
    async dispose() {
      engines.clear();
      await templates.unmountAll();
    },
  };
}
