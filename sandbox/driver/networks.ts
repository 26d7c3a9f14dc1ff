// Session networks: one bridge per session carved from a subnet pool, with the session's egress
// rules on it (a network without them is never handed out) and the host-isolation rule before the
// first one. Where the rules are installed is the engine site's business (see engine-site.ts).
import type Docker from 'dockerode';
import { createHash } from 'node:crypto';
import { SandboxError } from './errors.ts';
import { egressTag, type EgressFirewall } from './egress.ts';
import { statusOf } from './engine-status.ts';
import { nextFreeSubnet } from './subnets.ts';
import { LABELS } from './types.ts';

export interface SessionNetworksDeps {
  docker: Docker;
  owner: string;
  pool: string;
  subnetPrefix: number;
  egress: EgressFirewall;
  /** Makes sure sandboxes in `pool` cannot reach the engine host's own services (once per process). */
  isolateHost(pool: string): Promise<void>;
  log: (msg: string, err?: unknown) => void;
}

export interface SessionNetworks {
  create(sessionId: string): Promise<string>;
  remove(sessionId: string): Promise<void>;
  join(ref: { node: number; containerId: string }, network: string, alias: string): Promise<void>;
  leave(ref: { containerId: string }, network: string): Promise<void>;
  /** Removes this owner's session networks whose session has no sandbox left and is not live, then stray egress rules. */
  reap(liveSessions: Set<string>, isLive: (sessionId: string) => boolean): Promise<void>;
}

/**
 * The INPUT rule that keeps sandboxes in `pool` from the engine host's own services: packets from the
 * pool addressed to the host itself go through INPUT (the internet goes through FORWARD).
 */
export function hostIsolationRule(pool: string): string[] {
  return ['INPUT', '-s', pool, '-m', 'conntrack', '--ctstate', 'NEW', '-j', 'REJECT', '-m', 'comment', '--comment', 'lablab: sandboxes may not reach host services'];
}

/**
 * 404 (gone), 304 (already in that state) and 409 "removal … already in progress" (another process,
 * a second server's reaper or a test's clean-up, is removing it right now) count as success for teardown.
 */
export async function idempotent(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    const s = statusOf(err);
    if (s === 409 && /already in progress/.test(String((err as Error).message))) return;
    if (s !== 404 && s !== 304) throw err;
  }
}

export function createSessionNetworks(deps: SessionNetworksDeps): SessionNetworks {
  const { docker, owner, pool, subnetPrefix, egress, log } = deps;

  const networkName = (sessionId: string) =>
    `lablab-${owner}-${sessionId.replace(/[^a-zA-Z0-9_.-]/g, '').slice(0, 24)}-${createHash('sha256').update(sessionId).digest('hex').slice(0, 8)}`;

  /** Subnets handed out by this process whose networks may not be listed by the engine yet. */
  const reserved = new Set<string>();
  const pendingNets = new Map<string, Promise<string>>();

  async function create(sessionId: string): Promise<string> {
    await deps.isolateHost(pool);
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

  async function remove(sessionId: string): Promise<void> {
    await idempotent(docker.getNetwork(networkName(sessionId)).remove());
    await egress.remove(egressTag(networkName(sessionId)));
  }

  async function reap(liveSessions: Set<string>, isLive: (sessionId: string) => boolean): Promise<void> {
    const nets = await docker.listNetworks({
      filters: { label: [`${LABELS.managed}=1`, `${LABELS.kind}=session-network`, `${LABELS.owner}=${owner}`] },
    });
    for (const n of nets) {
      const sid = n.Labels?.[LABELS.session] ?? '';
      if (liveSessions.has(sid) || isLive(sid)) continue;
      await idempotent(docker.getNetwork(n.Id).remove()).catch((e) => log(`reap: could not remove network ${n.Name}`, e));
    }
    // Egress rules whose network is gone (a server killed between the two removals), whoever's they were.
    const present = new Set((await docker.listNetworks()).map((n) => egressTag(n.Name)));
    for (const tag of await egress.tags().catch(() => [])) {
      if (!present.has(tag)) await egress.remove(tag).catch((e) => log(`reap: could not remove egress rules ${tag}`, e));
    }
  }

  return {
    create,
    remove,
    reap,
    async join(ref, network, alias) {
      try {
        await docker.getNetwork(network).connect({ Container: ref.containerId, EndpointConfig: { Aliases: [alias] } });
      } catch (err) {
        throw new SandboxError('sandbox_failed', `could not connect node${ref.node} to ${network}: ${(err as Error).message}`, { cause: err });
      }
    },
    async leave(ref, network) {
      await idempotent(docker.getNetwork(network).disconnect({ Container: ref.containerId, Force: true }));
    },
  };
}
