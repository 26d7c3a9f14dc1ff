// Checks on the Docker object model beyond builds: volumes, networks, container settings, image metadata,
// Compose projects (found by the labels Compose puts on its containers), Swarm nodes, services and stacks.
// Everything is read from the sandbox's inner engine API; every failure says what was found and what was expected.
import path from 'node:path';
import type { ContainerInfo, EngineClient, ServiceInfo, SwarmNode } from '../../sandbox/driver/types.ts';
import { clip, plural } from './format.ts';
import type { ObjectCheckSpec } from './types.ts';
import { type CheckContext, type Lookup, type Verdict, code, failing, noContainer, noImage, passing } from './verdict.ts';

type Spec<K extends ObjectCheckSpec['kind']> = Extract<ObjectCheckSpec, { kind: K }>;

const list = (xs: readonly string[]): string => (xs.length === 0 ? 'none' : xs.join(', '));
const missingOf = (want: readonly string[], have: readonly string[]): string[] => want.filter((w) => !have.includes(w));

/** "busybox" and "busybox:latest" (and docker.io/library/busybox) are one image. */
export function sameImage(a: string, b: string): boolean {
  const n = (s: string): string => {
    let x = s.replace(/@sha256:[0-9a-f]+$/, '').replace(/^docker\.io\//, '').replace(/^library\//, '');
    const slash = x.lastIndexOf('/');
    if (!x.slice(slash + 1).includes(':')) x += ':latest';
    return x;
  };
  return n(a) === n(b);
}

export async function runObjectCheck(spec: ObjectCheckSpec, ctx: CheckContext, l: Lookup): Promise<Verdict> {
  const e = ctx.engine;
  switch (spec.kind) {
    case 'volume.exists': case 'volume.driver': case 'volume.labels': return volumeCheck(spec, e);
    case 'network.exists': case 'network.driver': case 'network.attachable': case 'network.containers': return networkCheck(spec, e);
    case 'container.health': case 'container.networks': case 'container.mounts': case 'container.restart':
    case 'container.env': case 'container.image': case 'container.user': return containerCheck(spec, l);
    case 'image.healthcheck': case 'image.stopsignal': case 'image.volumes': case 'image.platform': return imageCheck(spec, l);
    case 'compose.services': case 'compose.running': case 'compose.replicas': return composeCheck(spec, ctx);
    case 'node.role': case 'node.swarm': case 'node.availability': return nodeCheck(spec, e);
    case 'swarm.nodes': return nodesCheck(spec, e);
    case 'service.exists': case 'service.replicas': case 'service.image': case 'service.ports': case 'service.mode':
    case 'stack.services': return serviceCheck(spec, e);
    default: {
      const never: never = spec;
      throw new Error(`unknown object check ${(never as { kind: string }).kind}`);
    }
  }
}

// ---- volumes and networks ------------------------------------------------------------------------

async function volumeCheck(spec: Spec<'volume.exists' | 'volume.driver' | 'volume.labels'>, e: EngineClient): Promise<Verdict> {
  const v = await e.volume(spec.volume);
  if (spec.kind === 'volume.exists') {
    const expected = spec.exists ? `a volume named ${spec.volume}` : `no volume named ${spec.volume}`;
    if (!v) return spec.exists ? failing(spec, 'no such volume', expected, `There is no volume named ${spec.volume}`, `create it (or the container that uses it); ${code('docker volume ls')} lists them.`) : passing('no such volume', expected, `${spec.volume} is gone.`);
    return spec.exists ? passing(`driver ${v.driver}`, expected, `Volume ${spec.volume} exists (${v.driver} driver).`)
      : failing(spec, 'exists', expected, `Volume ${spec.volume} still exists`, `remove it with ${code(`docker volume rm ${spec.volume}`)}.`);
  }
  if (spec.kind === 'volume.driver') {
    const expected = `the ${spec.driver} driver`;
    if (!v) return failing(spec, 'no such volume', expected, `There is no volume named ${spec.volume}`, `${code('docker volume ls')} lists the volumes.`);
    if (v.driver === spec.driver) return passing(v.driver, expected, `Volume ${spec.volume} uses the ${v.driver} driver.`);
    return failing(spec, `driver ${v.driver}`, expected, `Volume ${spec.volume} uses the ${v.driver} driver`, `create it with ${code(`--driver ${spec.driver}`)}.`);
  }
  const want = Object.entries(spec.labels).map(([k, x]) => `${k}=${x}`);
  const expected = `labels ${list(want)}`;
  if (!v) return failing(spec, 'no such volume', expected, `There is no volume named ${spec.volume}`, `${code('docker volume ls')} lists the volumes.`);
  const have = Object.entries(v.labels).map(([k, x]) => `${k}=${x}`);
  const missing = missingOf(want, have);
  if (missing.length === 0) return passing(`labels ${list(want)}`, expected, `Volume ${spec.volume} has ${list(want)}.`);
  return failing(spec, `labels ${clip(list(have), 100)}`, expected, `Volume ${spec.volume} lacks ${list(missing)} (its labels: ${clip(list(have), 100)})`, `labels are set at creation: ${code('docker volume create --label …')}.`);
}

async function networkCheck(spec: Spec<'network.exists' | 'network.driver' | 'network.attachable' | 'network.containers'>, e: EngineClient): Promise<Verdict> {
  const n = await e.network(spec.network);
  const none = (expected: string): Verdict => failing(spec, 'no such network', expected, `There is no network named ${spec.network}`, `${code('docker network ls')} lists the networks.`);
  switch (spec.kind) {
    case 'network.exists': {
      const expected = spec.exists ? `a network named ${spec.network}` : `no network named ${spec.network}`;
      if (!n) return spec.exists ? none(expected) : passing('no such network', expected, `${spec.network} is gone.`);
      return spec.exists ? passing(`${n.driver} network`, expected, `Network ${spec.network} exists (${n.driver}).`)
        : failing(spec, 'exists', expected, `Network ${spec.network} still exists`, `remove it with ${code(`docker network rm ${spec.network}`)}.`);
    }
    case 'network.driver': {
      const expected = `a ${spec.driver} network`;
      if (!n) return none(expected);
      if (n.driver === spec.driver) return passing(`${n.driver} network`, expected, `${spec.network} is a ${n.driver} network.`);
      return failing(spec, `${n.driver} network`, expected, `${spec.network} is a ${n.driver} network`, `create it with ${code(`docker network create --driver ${spec.driver} …`)}.`);
    }
    case 'network.attachable': {
      const expected = spec.attachable ? 'attachable' : 'not attachable';
      if (!n) return none(expected);
      const actual = n.attachable ? 'attachable' : 'not attachable';
      if (n.attachable === spec.attachable) return passing(actual, expected, `${spec.network} is ${actual}.`);
      return failing(spec, actual, expected, `${spec.network} is ${actual}`, spec.attachable ? `create it with ${code('--attachable')}.` : undefined);
    }
    case 'network.containers': {
      const expected = `${list(spec.containers)} attached`;
      if (!n) return none(expected);
      const missing = missingOf(spec.containers, n.containers);
      const actual = `attached: ${list(n.containers)}`;
      if (missing.length === 0) return passing(actual, expected, `${list(spec.containers)} ${spec.containers.length === 1 ? 'is' : 'are'} on ${spec.network}.`);
      return failing(spec, actual, expected, `${list(missing)} ${missing.length === 1 ? 'is' : 'are'} not on ${spec.network} (${actual})`,
        `attach with ${code(`docker network connect ${spec.network} ${missing[0]}`)} or ${code(`--network ${spec.network}`)}.`);
    }
  }
}

// ---- containers and images -----------------------------------------------------------------------

function parseEnv(env: readonly string[]): Map<string, string> {
  return new Map(env.map((x) => [x.slice(0, x.includes('=') ? x.indexOf('=') : x.length), x.includes('=') ? x.slice(x.indexOf('=') + 1) : '']));
}

async function containerCheck(
  spec: Spec<'container.health' | 'container.networks' | 'container.mounts' | 'container.restart' | 'container.env' | 'container.image' | 'container.user'>,
  l: Lookup,
): Promise<Verdict> {
  const c: ContainerInfo | null = await l.container(spec.container);
  const name = spec.container;
  switch (spec.kind) {
    case 'container.health': {
      const expected = spec.health;
      if (!c) return noContainer(spec, expected);
      const actual = c.health ?? (c.state === 'running' ? 'no health check' : c.state);
      if (c.health === spec.health) return passing(actual, expected, `${name} is ${actual}.`);
      const hint = c.health === null || c.health === undefined ? 'give it a HEALTHCHECK (in the image, with --health-cmd, or under healthcheck: in Compose).'
        : c.health === 'starting' ? 'its first health check has not finished; give it a moment.'
          : `see the last checks with ${code(`docker inspect --format '{{json .State.Health}}' ${name}`)}.`;
      return failing(spec, actual, expected, `${name} is ${actual}`, hint);
    }
    case 'container.networks': {
      const expected = `on ${list(spec.networks)}`;
      if (!c) return noContainer(spec, expected);
      const have = c.networks ?? [];
      const missing = missingOf(spec.networks, have);
      if (missing.length === 0) return passing(`on ${list(have)}`, expected, `${name} is on ${list(spec.networks)}.`);
      return failing(spec, `on ${list(have)}`, expected, `${name} is on ${list(have)}, not ${list(missing)}`, `run it with ${code(`--network ${missing[0]}`)}.`);
    }
    case 'container.mounts': {
      const expected = `mounts ${list(spec.mounts)}`;
      if (!c) return noContainer(spec, expected);
      const have = (c.mounts ?? []).map((m) => `${m.source}:${m.destination}`);
      const missing = spec.mounts.filter((want) => {
        const i = want.lastIndexOf(':/');
        const src = want.slice(0, i);
        const dst = want.slice(i + 1);
        return !(c.mounts ?? []).some((m) => m.destination === dst && (m.source === src || path.posix.normalize(m.source) === path.posix.normalize(src)));
      });
      const actual = have.length ? `mounts ${clip(list(have), 120)}` : 'no mounts';
      if (missing.length === 0) return passing(actual, expected, `${name} mounts ${list(spec.mounts)}.`);
      return failing(spec, actual, expected, `${name} has ${actual}, not ${list(missing)}`, `run it with ${code(`-v ${missing[0]}`)}.`);
    }
    case 'container.restart': {
      const expected = `restart policy ${spec.policy}`;
      if (!c) return noContainer(spec, expected);
      const actual = `restart policy ${c.restartPolicy ?? 'no'}`;
      if ((c.restartPolicy ?? 'no') === spec.policy) return passing(actual, expected, `${name} has ${actual}.`);
      return failing(spec, actual, expected, `${name} has ${actual}`, `run it with ${code(`--restart ${spec.policy}`)} (or ${code(`docker update --restart ${spec.policy} ${name}`)}).`);
    }
    case 'container.env': {
      const want = Object.entries(spec.env);
      const expected = want.map(([k, v]) => `${k}=${v}`).join(', ');
      if (!c) return noContainer(spec, expected);
      const env = parseEnv(c.env ?? []);
      const wrong = want.filter(([k, v]) => env.get(k) !== v);
      if (wrong.length === 0) return passing(expected, expected, `${name} has ${expected} in its environment.`);
      const found = wrong.map(([k]) => (env.has(k) ? `${k}=${env.get(k)}` : `no ${k}`)).join(', ');
      return failing(spec, found, expected, `${name} has ${found}`, `set it with ${code(`-e ${wrong[0]![0]}=${wrong[0]![1]}`)}.`);
    }
    case 'container.image': {
      const expected = `running ${spec.image}`;
      if (!c) return noContainer(spec, expected);
      if (sameImage(c.image, spec.image)) return passing(`running ${c.image}`, expected, `${name} runs ${c.image}.`);
      return failing(spec, `running ${c.image}`, expected, `${name} runs ${c.image}`, `start it from ${code(spec.image)}.`);
    }
    case 'container.user': {
      const expected = `running as ${spec.user}`;
      if (!c) return noContainer(spec, expected);
      const actual = c.user ? `running as ${c.user}` : 'running as root (no user set)';
      if ((c.user ?? '') === spec.user || (c.user ?? '').split(':')[0] === spec.user) return passing(actual, expected, `${name} is ${actual}.`);
      return failing(spec, actual, expected, `${name} is ${actual}`, `run it with ${code(`--user ${spec.user}`)} or set ${code('USER')} in the image.`);
    }
  }
}

const signalName = (s: string): string => {
  const u = s.trim().toUpperCase();
  if (u === '' ) return 'SIGTERM';
  return /^\d+$/.test(u) || u.startsWith('SIG') ? u : `SIG${u}`;
};

async function imageCheck(spec: Spec<'image.healthcheck' | 'image.stopsignal' | 'image.volumes' | 'image.platform'>, l: Lookup): Promise<Verdict> {
  const img = await l.image(spec.image);
  switch (spec.kind) {
    case 'image.healthcheck': {
      const expected = !spec.present ? 'no HEALTHCHECK' : spec.command ? `a HEALTHCHECK running ${spec.command}` : 'a HEALTHCHECK';
      if (!img) return noImage(spec, expected);
      const test = img.config.healthcheck ?? null;
      const has = test !== null && test[0] !== 'NONE';
      const cmd = has ? test!.slice(1).join(' ') : '';
      const actual = has ? `HEALTHCHECK ${clip(cmd, 80)}` : 'no HEALTHCHECK';
      const ok = spec.present ? has && (spec.command === undefined || cmd.includes(spec.command)) : !has;
      if (ok) return passing(actual, expected, `${spec.image} has ${actual}.`);
      return failing(spec, actual, expected, `${spec.image} has ${actual}`, spec.present ? `add a ${code('HEALTHCHECK CMD …')} line to the Dockerfile and build again.` : `remove the ${code('HEALTHCHECK')} line (or write ${code('HEALTHCHECK NONE')}).`);
    }
    case 'image.stopsignal': {
      const want = signalName(spec.signal);
      const expected = `STOPSIGNAL ${want}`;
      if (!img) return noImage(spec, expected);
      const have = signalName(img.config.stopSignal ?? '');
      const actual = img.config.stopSignal ? `STOPSIGNAL ${have}` : 'STOPSIGNAL not set (SIGTERM)';
      if (have === want) return passing(actual, expected, `${spec.image} has ${actual}.`);
      return failing(spec, actual, expected, `${spec.image} has ${actual}`, `add ${code(`STOPSIGNAL ${want}`)} to the Dockerfile and build again.`);
    }
    case 'image.volumes': {
      const expected = `VOLUME ${list(spec.paths)}`;
      if (!img) return noImage(spec, expected);
      const have = img.config.volumes ?? [];
      const missing = missingOf(spec.paths, have);
      const actual = have.length ? `VOLUME ${list(have)}` : 'no VOLUME';
      if (missing.length === 0) return passing(actual, expected, `${spec.image} declares ${actual}.`);
      return failing(spec, actual, expected, `${spec.image} has ${actual}`, `add ${code(`VOLUME ${missing[0]}`)} to the Dockerfile and build again.`);
    }
    case 'image.platform': {
      const expected = `built for ${spec.platform}`;
      if (!img) return noImage(spec, expected);
      const have = img.platform ?? 'unknown';
      const parts = have.split('/');
      const ok = spec.platform.includes('/') ? have === spec.platform || have.startsWith(`${spec.platform}/`) : parts.includes(spec.platform);
      if (ok) return passing(have, expected, `${spec.image} is built for ${have}.`);
      return failing(spec, have, expected, `${spec.image} is built for ${have}`, `build it with ${code(`--platform ${spec.platform}`)}.`);
    }
  }
}

// ---- Compose -------------------------------------------------------------------------------------

const PROJECT = 'com.docker.compose.project';
const WORKING_DIR = 'com.docker.compose.project.working_dir';
const SERVICE = 'com.docker.compose.service';
const ONEOFF = 'com.docker.compose.oneoff';

/** The names Compose v1 and v2 derive from a folder: "my-App" → "myapp" (v1) or "my-app" (v2). */
export function composeProjectNames(dir: string): string[] {
  const base = path.posix.basename(dir).toLowerCase();
  return [...new Set([base.replace(/[^a-z0-9]/g, ''), base.replace(/[^a-z0-9_-]/g, '')])];
}

async function composeCheck(spec: Spec<'compose.services' | 'compose.running' | 'compose.replicas'>, ctx: CheckContext): Promise<Verdict> {
  const dir = path.posix.resolve(ctx.workdir, spec.dir);
  const names = composeProjectNames(dir);
  const all = await ctx.engine.containers();
  const project = all.filter((c) => {
    const lb = c.labels ?? {};
    if (!lb[PROJECT] || lb[ONEOFF] === 'True') return false;
    return lb[WORKING_DIR] === dir || names.includes(lb[PROJECT]!);
  });
  const services = [...new Set(project.map((c) => c.labels![SERVICE]!).filter(Boolean))].sort();
  const label = names[0] ?? spec.dir;
  const expected = spec.kind === 'compose.services' ? (spec.services.length ? `services ${list(spec.services)}` : 'the project up')
    : spec.kind === 'compose.running' ? 'every container running' : `${plural(spec.replicas, 'running container')} for ${spec.service}`;
  if (project.length === 0) {
    return failing(spec, 'no containers', expected, `Compose project ${label} (${spec.dir}) has no containers`, `run ${code('docker compose up -d')} in ${spec.dir}.`);
  }
  if (spec.kind === 'compose.services') {
    const missing = missingOf(spec.services, services);
    if (missing.length === 0) return passing(`services ${list(services)}`, expected, `Project ${label} has the services ${list(services)}.`);
    return failing(spec, `services ${list(services)}`, expected, `Project ${label} has the services ${list(services)}, not ${list(missing)}`, `is ${list(missing)} under ${code('services:')} in the Compose file, and did you run ${code('docker compose up -d')} again?`);
  }
  if (spec.kind === 'compose.running') {
    const down = project.filter((c) => c.state !== 'running');
    if (down.length === 0) return passing(`${plural(project.length, 'container')} running`, expected, `All ${plural(project.length, 'container')} of ${label} are running.`);
    const actual = down.map((c) => `${c.name} ${c.state}`).join(', ');
    return failing(spec, actual, expected, `In project ${label}: ${actual}`, `see why with ${code(`docker compose logs ${down[0]!.labels![SERVICE] ?? ''}`.trim())}.`);
  }
  const mine = project.filter((c) => c.labels![SERVICE] === spec.service);
  const running = mine.filter((c) => c.state === 'running').length;
  const actual = `${running} running`;
  if (running === spec.replicas) return passing(actual, expected, `${spec.service} has ${plural(running, 'running container')}.`);
  return failing(spec, actual, expected, mine.length === 0 ? `Project ${label} has no service ${spec.service} (its services: ${list(services)})` : `${spec.service} has ${plural(running, 'running container')}`,
    `scale it with ${code(`docker compose up -d --scale ${spec.service}=${spec.replicas}`)}.`);
}

// ---- Swarm ---------------------------------------------------------------------------------------

const NOT_MANAGER = `this node is not a swarm manager, so it cannot list the swarm (${code('docker swarm init')} makes it one)`;

async function nodeCheck(spec: Spec<'node.role' | 'node.swarm' | 'node.availability'>, e: EngineClient): Promise<Verdict> {
  const self = spec.node === 'self';
  const who = self ? 'This node' : spec.node;
  const expected = spec.kind === 'node.role' ? `a ${spec.role}` : spec.kind === 'node.swarm' ? (spec.active ? 'in a swarm' : 'not in a swarm') : spec.availability;
  const s = await e.swarm();
  let node: SwarmNode | null | undefined;
  if (self) {
    if (s.state === 'active') {
      const nodes = s.manager ? await e.swarmNodes() : null;
      node = nodes?.find((n) => n.id === s.nodeId) ?? { id: s.nodeId, hostname: '', role: s.manager ? 'manager' : 'worker', availability: 'active', status: 'ready' };
    }
  } else if (s.state === 'active') {
    const nodes = await e.swarmNodes();
    if (nodes === null) return failing(spec, 'unknown', expected, `Cannot see ${spec.node}: ${NOT_MANAGER}`);
    node = nodes.find((n) => n.hostname === spec.node || n.id.startsWith(spec.node)) ?? null;
    if (!node) {
      if (spec.kind === 'node.swarm' && !spec.active) return passing('not in the swarm', expected, `${spec.node} is not in the swarm.`);
      return failing(spec, 'not in the swarm', expected, `${spec.node} is not in the swarm (its nodes: ${list(nodes.map((n) => n.hostname).sort())})`, `join it with the command ${code('docker swarm join-token worker')} prints.`);
    }
  }
  const inSwarm = node !== undefined && node !== null && (self || node.status !== 'down');
  if (spec.kind === 'node.swarm') {
    const actual = inSwarm ? 'in a swarm' : self ? `swarm ${s.state}` : `node ${node?.status ?? 'unknown'}`;
    if (inSwarm === spec.active) return passing(actual, expected, `${who} is ${spec.active ? 'in a swarm' : 'not in a swarm'}.`);
    return failing(spec, actual, expected, `${who} is ${spec.active ? (self ? `not in a swarm (state ${s.state})` : `${node?.status ?? 'not ready'}`) : 'still in a swarm'}`,
      spec.active ? `${code('docker swarm init')} starts one; ${code('docker swarm join')} joins one.` : `leave it with ${code('docker swarm leave --force')}.`);
  }
  if (!node) return failing(spec, `swarm ${s.state}`, expected, `${who} is not in a swarm`, `${code('docker swarm init')} starts one on the first node.`);
  if (spec.kind === 'node.role') {
    if (node.role === spec.role) return passing(node.role, expected, `${who} is a ${node.role}.`);
    return failing(spec, node.role, expected, `${who} is a ${node.role}`, spec.role === 'manager' ? `promote it with ${code(`docker node promote ${node.hostname || spec.node}`)}.` : `demote it with ${code(`docker node demote ${node.hostname || spec.node}`)}.`);
  }
  if (node.availability === spec.availability) return passing(node.availability, expected, `${who} is ${node.availability}.`);
  return failing(spec, node.availability, expected, `${who} is ${node.availability}`, `change it with ${code(`docker node update --availability ${spec.availability} ${node.hostname || spec.node}`)}.`);
}

async function nodesCheck(spec: Spec<'swarm.nodes'>, e: EngineClient): Promise<Verdict> {
  const expected = spec.min !== undefined && spec.min === spec.max ? plural(spec.min, 'node')
    : spec.min !== undefined && spec.max !== undefined ? `${spec.min} to ${spec.max} nodes` : spec.max !== undefined ? `at most ${plural(spec.max, 'node')}` : `at least ${plural(spec.min ?? 0, 'node')}`;
  const s = await e.swarm();
  if (s.state !== 'active') return failing(spec, `swarm ${s.state}`, expected, 'This node is not in a swarm', `${code('docker swarm init')} starts one.`);
  const nodes = await e.swarmNodes();
  if (nodes === null) return failing(spec, 'unknown', expected, `Cannot count the nodes: ${NOT_MANAGER}`);
  const n = nodes.length;
  const actual = `${plural(n, 'node')} (${list(nodes.map((x) => x.hostname).sort())})`;
  if ((spec.min === undefined || n >= spec.min) && (spec.max === undefined || n <= spec.max)) return passing(actual, expected, `The swarm has ${actual}.`);
  return failing(spec, actual, expected, `The swarm has ${actual}`, n < (spec.min ?? 0) ? `join the other nodes with the command ${code('docker swarm join-token worker')} prints.` : undefined);
}

async function serviceCheck(spec: Spec<'service.exists' | 'service.replicas' | 'service.image' | 'service.ports' | 'service.mode' | 'stack.services'>, e: EngineClient): Promise<Verdict> {
  const expected = spec.kind === 'service.exists' ? (spec.exists ? `a service named ${spec.service}` : `no service named ${spec.service}`)
    : spec.kind === 'service.replicas' ? plural(spec.replicas, 'running task')
      : spec.kind === 'service.image' ? `running ${spec.image}`
        : spec.kind === 'service.ports' ? `publishing ${list(spec.ports.map((p) => `${p.published}:${p.target}`))}`
          : spec.kind === 'service.mode' ? `${spec.mode} mode` : spec.services.length ? `services ${list(spec.services)}` : 'the stack deployed';
  const s = await e.swarm();
  if (s.state !== 'active') return failing(spec, `swarm ${s.state}`, expected, 'This node is not in a swarm, so there are no services', `${code('docker swarm init')} starts one.`);
  const all = await e.services();
  if (all === null) return failing(spec, 'unknown', expected, `Cannot list services: ${NOT_MANAGER}`);
  if (spec.kind === 'stack.services') {
    const mine = all.filter((x) => x.labels['com.docker.stack.namespace'] === spec.stack);
    const names = mine.map((x) => x.name.startsWith(`${spec.stack}_`) ? x.name.slice(spec.stack.length + 1) : x.name).sort();
    if (mine.length === 0) return failing(spec, 'no services', expected, `Stack ${spec.stack} has no services`, `deploy it with ${code(`docker stack deploy -c docker-compose.yml ${spec.stack}`)}.`);
    const missing = missingOf(spec.services, names);
    if (missing.length === 0) return passing(`services ${list(names)}`, expected, `Stack ${spec.stack} has the services ${list(names)}.`);
    return failing(spec, `services ${list(names)}`, expected, `Stack ${spec.stack} has the services ${list(names)}, not ${list(missing)}`, 'is it in the Compose file you deployed?');
  }
  const svc: ServiceInfo | undefined = all.find((x) => x.name === spec.service || x.id.startsWith(spec.service));
  if (spec.kind === 'service.exists') {
    if (!svc) return spec.exists ? failing(spec, 'no such service', expected, `There is no service named ${spec.service} (services: ${list(all.map((x) => x.name))})`, `create it with ${code('docker service create')}.`) : passing('no such service', expected, `${spec.service} is gone.`);
    return spec.exists ? passing(`${svc.running} running`, expected, `Service ${spec.service} exists.`) : failing(spec, 'exists', expected, `Service ${spec.service} still exists`, `remove it with ${code(`docker service rm ${spec.service}`)}.`);
  }
  if (!svc) return failing(spec, 'no such service', expected, `There is no service named ${spec.service} (services: ${list(all.map((x) => x.name))})`, `create it with ${code('docker service create --name ' + spec.service + ' …')}.`);
  switch (spec.kind) {
    case 'service.replicas': {
      const actual = `${svc.running} running${svc.desired !== null ? ` of ${svc.desired} desired` : ''}`;
      if (svc.running === spec.replicas) return passing(actual, expected, `${spec.service} has ${plural(svc.running, 'running task')}.`);
      const hint = svc.desired === spec.replicas ? `the tasks are still starting; ${code(`docker service ps ${spec.service}`)} shows where they are.` : `scale it with ${code(`docker service scale ${spec.service}=${spec.replicas}`)}.`;
      return failing(spec, actual, expected, `${spec.service} has ${actual}`, hint);
    }
    case 'service.image':
      if (sameImage(svc.image, spec.image)) return passing(`running ${svc.image}`, expected, `${spec.service} runs ${svc.image}.`);
      return failing(spec, `running ${svc.image}`, expected, `${spec.service} runs ${svc.image}`, `change it with ${code(`docker service update --image ${spec.image} ${spec.service}`)}.`);
    case 'service.ports': {
      const have = svc.ports.map((p) => `${p.published}:${p.target}`);
      const missing = spec.ports.filter((p) => !svc.ports.some((x) => x.published === p.published && x.target === p.target)).map((p) => `${p.published}:${p.target}`);
      const actual = have.length ? `publishing ${list(have)}` : 'no published ports';
      if (missing.length === 0) return passing(actual, expected, `${spec.service} is ${actual}.`);
      return failing(spec, actual, expected, `${spec.service} has ${actual}`, `publish with ${code(`docker service update --publish-add ${missing[0]} ${spec.service}`)}.`);
    }
    case 'service.mode':
      if (svc.mode === spec.mode) return passing(`${svc.mode} mode`, expected, `${spec.service} runs in ${svc.mode} mode.`);
      return failing(spec, `${svc.mode} mode`, expected, `${spec.service} runs in ${svc.mode} mode`, `the mode is set at creation: ${code(`docker service create --mode ${spec.mode} …`)}.`);
  }
}
