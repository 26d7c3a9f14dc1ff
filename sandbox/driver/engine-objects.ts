// The inner engine's objects beyond images and containers: volumes, networks, the swarm, its nodes and
// services, and the container and image details the newer checks read. dockerode shapes stay in here;
// engine-client.ts spreads these into the EngineClient it returns.
import type Docker from 'dockerode';
import type { ContainerInfo, ContainerMount, EngineClient, ImageConfig, NetworkInfo, ServiceInfo, SwarmNode, SwarmSelf, VolumeInfo } from './types.ts';
import { statusOf, orNull } from './engine-status.ts';

/** 503 "This node is not a swarm manager" is an answer, not a failure. */
async function managerOnly<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (err) {
    if (statusOf(err) === 503 || /not a swarm manager|not part of a swarm/i.test(String((err as Error).message))) return null;
    throw err;
  }
}

type Inspect = Docker.ContainerInspectInfo;

const HEALTH = new Set(['healthy', 'unhealthy', 'starting']);

/** The inspect fields the container checks need beyond state and ports. */
export function containerDetails(c: Inspect): Partial<ContainerInfo> {
  const h = (c.State as { Health?: { Status?: string } } | undefined)?.Health?.Status;
  const mounts: ContainerMount[] = ((c.Mounts ?? []) as { Type?: string; Name?: string; Source?: string; Destination?: string }[]).map((m) => ({
    type: m.Type ?? 'volume',
    source: m.Type === 'volume' ? (m.Name ?? m.Source ?? '') : (m.Source ?? ''),
    destination: m.Destination ?? '',
  }));
  return {
    labels: c.Config?.Labels ?? {},
    networks: Object.keys(c.NetworkSettings?.Networks ?? {}),
    health: h && HEALTH.has(h) ? (h as ContainerInfo['health']) : null,
    mounts,
    restartPolicy: c.HostConfig?.RestartPolicy?.Name || 'no',
    env: c.Config?.Env ?? [],
    user: c.Config?.User ?? '',
  };
}

/** The list fields (docker ps) that Compose checks need. */
export function listedDetails(c: Docker.ContainerInfo): Partial<ContainerInfo> {
  return { labels: c.Labels ?? {}, networks: Object.keys(c.NetworkSettings?.Networks ?? {}) };
}

/** HEALTHCHECK, STOPSIGNAL and VOLUME from an image inspect. */
export function imageExtras(info: Docker.ImageInspectInfo): { config: Partial<ImageConfig>; platform: string } {
  const cfg = (info.Config ?? {}) as { Healthcheck?: { Test?: string[] }; StopSignal?: string; Volumes?: Record<string, unknown> | null };
  const variant = (info as { Variant?: string }).Variant;
  return {
    config: {
      healthcheck: cfg.Healthcheck?.Test?.length ? cfg.Healthcheck.Test : null,
      stopSignal: cfg.StopSignal ?? '',
      volumes: Object.keys(cfg.Volumes ?? {}),
    },
    platform: `${info.Os}/${info.Architecture}${variant ? `/${variant}` : ''}`,
  };
}

type ObjectMethods = Pick<EngineClient, 'volume' | 'network' | 'swarm' | 'swarmNodes' | 'services'>;

export function engineObjects(docker: Docker, check: () => void): ObjectMethods {
  async function volume(name: string): Promise<VolumeInfo | null> {
    check();
    const v = (await orNull(docker.getVolume(name).inspect())) as { Name: string; Driver: string; Labels: Record<string, string> | null } | null;
    return v ? { name: v.Name, driver: v.Driver, labels: v.Labels ?? {} } : null;
  }

  async function network(nameOrId: string): Promise<NetworkInfo | null> {
    check();
    const n = (await orNull(docker.getNetwork(nameOrId).inspect())) as {
      Id: string; Name: string; Driver: string; Scope: string; Attachable?: boolean; Labels?: Record<string, string> | null;
      Containers?: Record<string, { Name?: string }> | null;
    } | null;
    // The engine matches a network by id prefix too; a check names a network, so insist on the name or id.
    if (!n || (n.Name !== nameOrId && !n.Id.startsWith(nameOrId))) return null;
    return {
      id: n.Id,
      name: n.Name,
      driver: n.Driver,
      scope: n.Scope,
      attachable: n.Attachable ?? false,
      containers: Object.values(n.Containers ?? {}).map((c) => c.Name ?? '').filter((x) => x && !x.endsWith('-endpoint')),
      labels: n.Labels ?? {},
    };
  }

  async function swarm(): Promise<SwarmSelf> {
    check();
    const info = (await docker.info()) as { Swarm?: { LocalNodeState?: string; NodeID?: string; ControlAvailable?: boolean; Nodes?: number } };
    const s = info.Swarm ?? {};
    return { state: s.LocalNodeState || 'inactive', nodeId: s.NodeID ?? '', manager: s.ControlAvailable ?? false, nodes: s.Nodes ?? 0 };
  }

  async function swarmNodes(): Promise<SwarmNode[] | null> {
    check();
    const list = (await managerOnly(docker.listNodes())) as {
      ID: string; Description?: { Hostname?: string }; Spec?: { Role?: string; Availability?: string }; Status?: { State?: string };
    }[] | null;
    if (!list) return null;
    return list.map((n) => ({
      id: n.ID,
      hostname: n.Description?.Hostname ?? '',
      role: n.Spec?.Role === 'manager' ? 'manager' : 'worker',
      availability: (n.Spec?.Availability ?? 'active') as SwarmNode['availability'],
      status: n.Status?.State ?? 'unknown',
    }));
  }

  async function services(): Promise<ServiceInfo[] | null> {
    check();
    const list = (await managerOnly(docker.listServices())) as {
      ID: string;
      Spec?: {
        Name?: string; Labels?: Record<string, string>; Mode?: { Replicated?: { Replicas?: number }; Global?: object };
        TaskTemplate?: { ContainerSpec?: { Image?: string } };
      };
      Endpoint?: { Ports?: { PublishedPort?: number; TargetPort?: number; Protocol?: string }[] };
    }[] | null;
    if (!list) return null;
    const tasks = ((await managerOnly(docker.listTasks({ filters: JSON.stringify({ 'desired-state': ['running'] }) }))) ?? []) as {
      ServiceID?: string; Status?: { State?: string };
    }[];
    return list.map((s) => ({
      id: s.ID,
      name: s.Spec?.Name ?? '',
      image: (s.Spec?.TaskTemplate?.ContainerSpec?.Image ?? '').replace(/@sha256:[0-9a-f]+$/, ''),
      mode: s.Spec?.Mode?.Global ? 'global' : 'replicated',
      desired: s.Spec?.Mode?.Replicated?.Replicas ?? null,
      running: tasks.filter((t) => t.ServiceID === s.ID && t.Status?.State === 'running').length,
      ports: (s.Endpoint?.Ports ?? []).map((p) => ({ published: p.PublishedPort ?? 0, target: p.TargetPort ?? 0, protocol: p.Protocol ?? 'tcp' })),
      labels: s.Spec?.Labels ?? {},
    }));
  }

  return { volume, network, swarm, swarmNodes, services };
}
