// Generated titles for the object-model checks (volumes, networks, Compose, Swarm), as check-titles.ts does for builds.
import type { ObjectCheckSpec } from '../checks/types.ts';

const list = (xs: string[]): string => (xs.length <= 1 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`);
const nodeName = (n: string): string => (n === 'self' ? 'This node' : `Node ${n}`);

export function objectCheckTitle(c: ObjectCheckSpec): string {
  switch (c.kind) {
    case 'volume.exists': return c.exists ? `Volume ${c.volume} exists` : `There is no volume ${c.volume}`;
    case 'volume.driver': return `Volume ${c.volume} uses the ${c.driver} driver`;
    case 'volume.labels': return `Volume ${c.volume} has the labels ${list(Object.entries(c.labels).map(([k, v]) => `${k}=${v}`))}`;
    case 'network.exists': return c.exists ? `Network ${c.network} exists` : `There is no network ${c.network}`;
    case 'network.driver': return `Network ${c.network} is a ${c.driver} network`;
    case 'network.attachable': return c.attachable ? `Network ${c.network} is attachable` : `Network ${c.network} is not attachable`;
    case 'network.containers': return `${list(c.containers)} ${c.containers.length === 1 ? 'is' : 'are'} on network ${c.network}`;
    case 'container.health': return `Container ${c.container} is ${c.health}`;
    case 'container.networks': return `Container ${c.container} is on ${list(c.networks)}`;
    case 'container.mounts': return `Container ${c.container} mounts ${list(c.mounts)}`;
    case 'container.restart': return `Container ${c.container} has restart policy ${c.policy}`;
    case 'container.env': return `Container ${c.container} has ${list(Object.entries(c.env).map(([k, v]) => `${k}=${v}`))} in its environment`;
    case 'container.image': return `Container ${c.container} runs ${c.image}`;
    case 'container.user': return `Container ${c.container} runs as ${c.user}`;
    case 'image.healthcheck':
      if (!c.present) return `Image ${c.image} has no HEALTHCHECK`;
      return c.command ? `Image ${c.image} has a HEALTHCHECK running "${c.command}"` : `Image ${c.image} has a HEALTHCHECK`;
    case 'image.stopsignal': return `Image ${c.image} stops with ${c.signal}`;
    case 'image.volumes': return `Image ${c.image} declares the volume${c.paths.length === 1 ? '' : 's'} ${list(c.paths)}`;
    case 'image.platform': return `Image ${c.image} is built for ${c.platform}`;
    case 'compose.services': return c.services.length ? `Compose project ${c.dir} has the services ${list(c.services)}` : `Compose project ${c.dir} is up`;
    case 'compose.running': return `Every container of Compose project ${c.dir} is running`;
    case 'compose.replicas': return `Service ${c.service} of ${c.dir} runs ${c.replicas} container${c.replicas === 1 ? '' : 's'}`;
    case 'node.role': return `${nodeName(c.node)} is a swarm ${c.role}`;
    case 'node.swarm': return c.active ? `${nodeName(c.node)} is in a swarm` : `${nodeName(c.node)} is not in a swarm`;
    case 'node.availability': return `${nodeName(c.node)} is ${c.availability === 'active' ? 'active' : c.availability === 'drain' ? 'drained' : 'paused'}`;
    case 'swarm.nodes':
      if (c.min !== undefined && c.min === c.max) return `The swarm has ${c.min} node${c.min === 1 ? '' : 's'}`;
      if (c.min !== undefined && c.max !== undefined) return `The swarm has ${c.min} to ${c.max} nodes`;
      return c.max !== undefined ? `The swarm has at most ${c.max} nodes` : `The swarm has at least ${c.min ?? 0} nodes`;
    case 'service.exists': return c.exists ? `Service ${c.service} exists` : `There is no service ${c.service}`;
    case 'service.replicas': return `Service ${c.service} runs ${c.replicas} task${c.replicas === 1 ? '' : 's'}`;
    case 'service.image': return `Service ${c.service} runs ${c.image}`;
    case 'service.ports': return `Service ${c.service} publishes ${list(c.ports.map((p) => `${p.published}:${p.target}`))}`;
    case 'service.mode': return `Service ${c.service} is ${c.mode}`;
    case 'stack.services': return c.services.length ? `Stack ${c.stack} has the services ${list(c.services)}` : `Stack ${c.stack} is deployed`;
  }
}
