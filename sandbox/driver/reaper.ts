// The sandboxes this owner has on the engine: listing them back from their labels, their status,
// destroying one, and reaping the expired ones with whatever killed processes left behind.
import type Docker from 'dockerode';
import type { EngineSite } from './engine-site.ts';
import { statusOf } from './engine-status.ts';
import { idempotent, type SessionNetworks } from './networks.ts';
import { builderLive } from './templates.ts';
import { LABEL_PREFIX, LABELS, type SandboxRef, type SandboxStatus } from './types.ts';

/** Driver-internal labels (not part of the shared contract). */
export const SANDBOX_ID_LABEL = `${LABEL_PREFIX}.sandbox`;
export const IMAGES_LABEL = `${LABEL_PREFIX}.images`;
/** A builder without a lock label (an older release's) running longer than this is taken for a leftover. */
const BUILDER_MAX_AGE_MS = 30 * 60_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface ReaperDeps {
  docker: Docker;
  owner: string;
  site: EngineSite;
  networks: SessionNetworks;
  /** Sandboxes being created by this process: their leftovers may exist before their containers do. */
  creating: Set<string>;
  log: (msg: string, err?: unknown) => void;
}

export function createReaper(deps: ReaperDeps) {
  const { docker, owner, site, log } = deps;

  function refFor(id: string, containerId: string, name: string, sessionId: string, node: number, expiresAt: number): SandboxRef {
    return { id, containerId, name, sessionId, node, ...site.paths(id), workdir: '/root', expiresAt };
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
      memoryBytes: running ? site.memoryBytes(ref.id) : undefined,
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
    site.forget(ref.id);
    const container = docker.getContainer(ref.containerId);
    try {
      await idempotent(container.remove({ force: true, v: true }));
    } catch (err) {
      if (statusOf(err) !== 409) throw err;
      // Someone else's removal is in flight: wait for it, then release the storage ourselves.
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
    await site.release(ref.id);
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
    // Ids any owner's container still claims: their storage is not an orphan.
    const known = new Set(refs.map((r) => r.id));
    for (const c of await docker.listContainers({ all: true, filters: { label: [`${LABELS.managed}=1`, `${LABELS.kind}=sandbox`] } })) {
      const id = c.Labels?.[SANDBOX_ID_LABEL];
      if (id) known.add(id);
    }
    // Every builder on this engine is judged by its build lock (templates.ts builderLive): one whose
    // lock nobody holds is a dead process's (killed, or stopped mid-build) and goes, whatever its owner
    // or age. A builder this host cannot judge (another host's, or an older release's) is left alone,
    // unless it is this owner's and old.
    for (const c of await docker.listContainers({ all: true, filters: { label: [`${LABELS.managed}=1`, `${LABELS.kind}=template-builder`] } })) {
      const live = await builderLive(c.Labels);
      if (live === true) continue;
      if (live === undefined && (c.Labels?.[LABELS.owner] !== owner || (c.State === 'running' && opts.now - c.Created * 1000 < BUILDER_MAX_AGE_MS))) continue;
      log(`reap: removing template builder ${(c.Names?.[0] ?? c.Id).replace(/^\//, '')} (its process is gone)`);
      await idempotent(docker.getContainer(c.Id).remove({ force: true }));
    }
    reaped.push(...(await site.reapOrphans(known, deps.creating, opts.now)));
    await deps.networks.reap(new Set((await list()).map((r) => r.sessionId)), opts.isLive);
    return reaped;
  }

  return { refFor, status, list, destroy, reap };
}
