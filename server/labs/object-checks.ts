// The check syntax for the Docker object model beyond builds: volumes, networks, Compose projects, Swarm
// nodes, services and stacks, plus the newer container and image keys. checks.ts walks the YAML and calls
// these with the item's fields; each assertion becomes one draft spec, errors are reported by line.
import type { ContainerHealth, ObjectCheckBody, RestartPolicy } from '../checks/types.ts';
import { parseCount, parseRange } from './check-sizes.ts';

export interface ObjectField {
  key: string;
  value: unknown;
  line: number;
}
type Fields = Map<string, ObjectField>;
type Report = (line: number, message: string) => void;
export type ObjectDraft = ObjectCheckBody & { line?: number };

/** Subjects this module owns, and their keys (normalised: lower case, no "-"/"_"). */
export const OBJECT_KEYS = {
  volume: ['exists', 'driver', 'labels'],
  network: ['exists', 'driver', 'attachable', 'containers'],
  compose: ['services', 'running', 'replicas'],
  node: ['role', 'swarm', 'availability'],
  nodes: [],
  service: ['exists', 'replicas', 'image', 'ports', 'mode'],
  stack: ['services'],
} as const;
export type ObjectSubject = keyof typeof OBJECT_KEYS;
export const OBJECT_SUBJECTS = Object.keys(OBJECT_KEYS) as ObjectSubject[];

/** Display names for "unknown key" messages. */
export const OBJECT_KEY_NAMES: Record<ObjectSubject, string> = {
  volume: 'exists, driver, labels',
  network: 'exists, driver, attachable, containers',
  compose: 'services, running, replicas',
  node: 'role, swarm, availability',
  nodes: 'nothing else: "nodes: 3" or "nodes: at least 2"',
  service: 'exists, replicas, image, ports, mode',
  stack: 'services',
};

export const CONTAINER_OBJECT_KEYS = ['health', 'networks', 'mounts', 'restart', 'env', 'image', 'user'];
export const CONTAINER_OBJECT_KEY_NAMES = 'health, networks, mounts, restart, env, image, user';
export const IMAGE_OBJECT_KEYS = ['healthcheck', 'stopsignal', 'volumes', 'platform'];
export const IMAGE_OBJECT_KEY_NAMES = 'healthcheck, stop_signal, volumes, platform';

const HEALTH: ContainerHealth[] = ['healthy', 'unhealthy', 'starting'];
const RESTART: RestartPolicy[] = ['no', 'always', 'unless-stopped', 'on-failure'];
const NAME = /^[A-Za-z0-9][\w.-]*$/;

function str(v: unknown): string | null {
  if (typeof v === 'string' && v.trim() !== '') return v.trim();
  if (typeof v === 'number') return String(v);
  return null;
}

/** A list of non-empty strings; a single string counts as a list of one. */
function strList(v: unknown): string[] | null {
  const items = Array.isArray(v) ? v : [v];
  const out = items.map(str);
  return out.length > 0 && out.every((x): x is string => x !== null) ? out : null;
}

function count(v: unknown): number | null {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : null;
}

function oneOf<T extends string>(f: ObjectField, allowed: readonly T[], report: Report): T | null {
  const v = typeof f.value === 'string' ? f.value.trim().toLowerCase() : f.value;
  if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
  report(f.line, `"${f.key}" is ${allowed.join(', ').replace(/, ([^,]*)$/, ' or $1')}, not "${String(f.value)}"`);
  return null;
}

function names(f: ObjectField, what: string, report: Report): string[] | null {
  const list = strList(f.value);
  if (!list) report(f.line, `"${f.key}" is a list of ${what} names, e.g. [web, redis]`);
  return list;
}

function bool(f: ObjectField, report: Report, example: string): boolean | null {
  if (typeof f.value === 'boolean') return f.value;
  report(f.line, `"${f.key}" is true or false (${example})`);
  return null;
}

function stringMap(f: ObjectField, report: Report, example: string): Record<string, string> | null {
  const v = f.value;
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, x === null ? '' : String(x)]));
  }
  if (Array.isArray(v) && v.every((x) => typeof x === 'string' && x.includes('='))) {
    return Object.fromEntries((v as string[]).map((x) => [x.slice(0, x.indexOf('=')), x.slice(x.indexOf('=') + 1)]));
  }
  report(f.line, `"${f.key}" is a mapping, e.g. ${example}`);
  return null;
}

/** "8080:80" → published 8080, target 80. */
function parsePorts(f: ObjectField, report: Report): { published: number; target: number }[] | null {
  const list = strList(f.value);
  const out: { published: number; target: number }[] = [];
  for (const p of list ?? []) {
    const m = /^(\d{1,5}):(\d{1,5})(?:\/tcp)?$/.exec(p);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535 || Number(m[2]) < 1 || Number(m[2]) > 65535) {
      report(f.line, `bad port "${p}": write published:target, e.g. "8080:80"`);
      return null;
    }
    out.push({ published: Number(m[1]), target: Number(m[2]) });
  }
  if (!list) report(f.line, `"${f.key}" is a list such as ["8080:80"]`);
  return list ? out : null;
}

export function objectChecks(subject: ObjectSubject, target: string, f: Fields, report: Report): ObjectDraft[] {
  switch (subject) {
    case 'volume': return volumeChecks(target, f, report);
    case 'network': return networkChecks(target, f, report);
    case 'compose': return composeChecks(target, f, report);
    case 'node': return nodeChecks(target, f, report);
    case 'nodes': return nodesCheck(f.get('nodes')!, report);
    case 'service': return serviceChecks(target, f, report);
    case 'stack': return stackChecks(target, f, report);
  }
}

function volumeChecks(volume: string, f: Fields, report: Report): ObjectDraft[] {
  const out: ObjectDraft[] = [];
  if (!NAME.test(volume)) report(f.get('volume')!.line, `"${volume}" is not a volume name (e.g. app-data)`);
  const exists = f.get('exists');
  if (exists) {
    const b = bool(exists, report, 'exists: false for a removed volume');
    if (b !== null) out.push({ kind: 'volume.exists', volume, exists: b, line: exists.line });
  }
  const driver = f.get('driver');
  if (driver) {
    const d = str(driver.value);
    if (!d) report(driver.line, '"driver" names a volume driver, e.g. local');
    else out.push({ kind: 'volume.driver', volume, driver: d, line: driver.line });
  }
  const labels = f.get('labels');
  if (labels) {
    const m = stringMap(labels, report, '{app: counter}');
    if (m) out.push({ kind: 'volume.labels', volume, labels: m, line: labels.line });
  }
  if (out.length === 0 && !exists) out.push({ kind: 'volume.exists', volume, exists: true });
  return out;
}

function networkChecks(network: string, f: Fields, report: Report): ObjectDraft[] {
  const out: ObjectDraft[] = [];
  if (!NAME.test(network)) report(f.get('network')!.line, `"${network}" is not a network name (e.g. app-net)`);
  const exists = f.get('exists');
  if (exists) {
    const b = bool(exists, report, 'exists: false for a removed network');
    if (b !== null) out.push({ kind: 'network.exists', network, exists: b, line: exists.line });
  }
  const driver = f.get('driver');
  if (driver) {
    const d = str(driver.value);
    if (!d) report(driver.line, '"driver" is bridge, overlay, host, macvlan or null');
    else out.push({ kind: 'network.driver', network, driver: d.toLowerCase(), line: driver.line });
  }
  const attachable = f.get('attachable');
  if (attachable) {
    const b = bool(attachable, report, 'an overlay network made with --attachable');
    if (b !== null) out.push({ kind: 'network.attachable', network, attachable: b, line: attachable.line });
  }
  const containers = f.get('containers');
  if (containers) {
    const list = names(containers, 'container', report);
    if (list) out.push({ kind: 'network.containers', network, containers: list, line: containers.line });
  }
  if (out.length === 0 && !exists) out.push({ kind: 'network.exists', network, exists: true });
  return out;
}

function composeChecks(dir: string, f: Fields, report: Report): ObjectDraft[] {
  const out: ObjectDraft[] = [];
  const services = f.get('services');
  if (services) {
    const list = names(services, 'service', report);
    if (list) out.push({ kind: 'compose.services', dir, services: list, line: services.line });
  }
  const running = f.get('running');
  if (running) {
    if (running.value !== true) report(running.line, '"running" is written "running: true" (every container of the project is up)');
    else out.push({ kind: 'compose.running', dir, line: running.line });
  }
  const replicas = f.get('replicas');
  if (replicas) {
    const v = replicas.value;
    const entries = v && typeof v === 'object' && !Array.isArray(v) ? Object.entries(v as Record<string, unknown>) : [];
    if (entries.length === 0 || entries.some(([, n]) => count(n) === null)) {
      report(replicas.line, '"replicas" maps each service to its number of running containers, e.g. {web: 2, redis: 1}');
    } else {
      for (const [service, n] of entries) out.push({ kind: 'compose.replicas', dir, service, replicas: n as number, line: replicas.line });
    }
  }
  if (out.length === 0 && !services && !running && !replicas) out.push({ kind: 'compose.services', dir, services: [] });
  return out;
}

function nodeChecks(node: string, f: Fields, report: Report): ObjectDraft[] {
  const out: ObjectDraft[] = [];
  if (node !== 'self' && !NAME.test(node)) report(f.get('node')!.line, `"${node}" is "self" or a node's hostname, e.g. node2`);
  const role = f.get('role');
  if (role) {
    const r = oneOf(role, ['manager', 'worker'] as const, report);
    if (r) out.push({ kind: 'node.role', node, role: r, line: role.line });
  }
  const swarm = f.get('swarm');
  if (swarm) {
    const v = swarm.value === true ? 'active' : swarm.value === false ? 'inactive' : swarm.value;
    const s = oneOf({ ...swarm, value: v }, ['active', 'inactive'] as const, report);
    if (s) out.push({ kind: 'node.swarm', node, active: s === 'active', line: swarm.line });
  }
  const availability = f.get('availability');
  if (availability) {
    const a = oneOf(availability, ['active', 'pause', 'drain'] as const, report);
    if (a) out.push({ kind: 'node.availability', node, availability: a, line: availability.line });
  }
  if (out.length === 0 && !role && !swarm && !availability) out.push({ kind: 'node.swarm', node, active: true });
  return out;
}

function nodesCheck(n: ObjectField, report: Report): ObjectDraft[] {
  const r = typeof n.value === 'number' ? { min: n.value, max: n.value } : parseRange(n.value, parseCount);
  if ('error' in r || !Number.isInteger(r.min ?? 0) || !Number.isInteger(r.max ?? 0)) {
    report(n.line, `bad node count "${String(n.value)}": write 3, "at least 2" or 2..5`);
    return [];
  }
  const d: ObjectDraft = { kind: 'swarm.nodes', line: n.line };
  if (r.min !== undefined) d.min = r.min;
  if (r.max !== undefined) d.max = r.max;
  return [d];
}

function serviceChecks(service: string, f: Fields, report: Report): ObjectDraft[] {
  const out: ObjectDraft[] = [];
  if (!NAME.test(service)) report(f.get('service')!.line, `"${service}" is not a service name (e.g. web)`);
  const exists = f.get('exists');
  if (exists) {
    const b = bool(exists, report, 'exists: false for a removed service');
    if (b !== null) out.push({ kind: 'service.exists', service, exists: b, line: exists.line });
  }
  const replicas = f.get('replicas');
  if (replicas) {
    const n = count(replicas.value);
    if (n === null) report(replicas.line, `"replicas" is the number of running tasks, e.g. 3, not "${String(replicas.value)}"`);
    else out.push({ kind: 'service.replicas', service, replicas: n, line: replicas.line });
  }
  const image = f.get('image');
  if (image) {
    const i = str(image.value);
    if (!i) report(image.line, '"image" names the image the service runs, e.g. busybox');
    else out.push({ kind: 'service.image', service, image: i, line: image.line });
  }
  const ports = f.get('ports');
  if (ports) {
    const p = parsePorts(ports, report);
    if (p) out.push({ kind: 'service.ports', service, ports: p, line: ports.line });
  }
  const mode = f.get('mode');
  if (mode) {
    const m = oneOf(mode, ['replicated', 'global'] as const, report);
    if (m) out.push({ kind: 'service.mode', service, mode: m, line: mode.line });
  }
  if (out.length === 0 && !exists) out.push({ kind: 'service.exists', service, exists: true });
  return out;
}

function stackChecks(stack: string, f: Fields, report: Report): ObjectDraft[] {
  if (!NAME.test(stack)) report(f.get('stack')!.line, `"${stack}" is not a stack name (e.g. app)`);
  const services = f.get('services');
  if (!services) return [{ kind: 'stack.services', stack, services: [] }];
  const list = names(services, 'service', report);
  return list ? [{ kind: 'stack.services', stack, services: list, line: services.line }] : [];
}

/** The newer container keys (health, networks, mounts, restart, env, image, user). */
export function containerObjectChecks(container: string, f: Fields, report: Report): ObjectDraft[] {
  const out: ObjectDraft[] = [];
  const health = f.get('health');
  if (health) {
    const h = oneOf(health, HEALTH, report);
    if (h) out.push({ kind: 'container.health', container, health: h, line: health.line });
  }
  const networks = f.get('networks');
  if (networks) {
    const list = names(networks, 'network', report);
    if (list) out.push({ kind: 'container.networks', container, networks: list, line: networks.line });
  }
  const mounts = f.get('mounts');
  if (mounts) {
    const list = strList(mounts.value);
    const bad = (list ?? []).find((m) => !/^[^:]+:\/[^:]*$/.test(m));
    if (!list || bad !== undefined) report(mounts.line, `bad mount "${bad ?? String(mounts.value)}": write "volume:/path" or "/host/path:/path"`);
    else out.push({ kind: 'container.mounts', container, mounts: list, line: mounts.line });
  }
  const restart = f.get('restart');
  if (restart) {
    const r = oneOf({ ...restart, value: restart.value === false ? 'no' : restart.value }, RESTART, report);
    if (r) out.push({ kind: 'container.restart', container, policy: r, line: restart.line });
  }
  const env = f.get('env');
  if (env) {
    const m = stringMap(env, report, '{REDIS_HOST: redis}');
    if (m) out.push({ kind: 'container.env', container, env: m, line: env.line });
  }
  const image = f.get('image');
  if (image) {
    const i = str(image.value);
    if (!i) report(image.line, '"image" names the image the container runs, e.g. redis:7');
    else out.push({ kind: 'container.image', container, image: i, line: image.line });
  }
  const user = f.get('user');
  if (user) {
    const u = str(user.value);
    if (!u) report(user.line, '"user" is a user name or uid, e.g. nobody or 1000');
    else out.push({ kind: 'container.user', container, user: u, line: user.line });
  }
  return out;
}

/** The newer image keys (healthcheck, stop_signal, volumes, platform). */
export function imageObjectChecks(image: string, f: Fields, report: Report): ObjectDraft[] {
  const out: ObjectDraft[] = [];
  const hc = f.get('healthcheck');
  if (hc) {
    if (typeof hc.value === 'boolean') out.push({ kind: 'image.healthcheck', image, present: hc.value, line: hc.line });
    else if (str(hc.value)) out.push({ kind: 'image.healthcheck', image, present: true, command: str(hc.value)!, line: hc.line });
    else report(hc.line, '"healthcheck" is true, false, or text its command contains');
  }
  const sig = f.get('stopsignal');
  if (sig) {
    const s = str(sig.value);
    if (!s || !/^(SIG)?[A-Z0-9+-]+$/i.test(s)) report(sig.line, '"stop_signal" is a signal such as SIGQUIT');
    else out.push({ kind: 'image.stopsignal', image, signal: s, line: sig.line });
  }
  const volumes = f.get('volumes');
  if (volumes) {
    const list = strList(volumes.value);
    if (!list || list.some((p) => !p.startsWith('/'))) report(volumes.line, '"volumes" lists absolute paths, e.g. [/data]');
    else out.push({ kind: 'image.volumes', image, paths: list, line: volumes.line });
  }
  const platform = f.get('platform');
  if (platform) {
    const p = str(platform.value);
    if (!p || !/^[a-z0-9]+(\/[a-z0-9]+){0,2}$/.test(p)) report(platform.line, '"platform" is os/arch, e.g. linux/amd64');
    else out.push({ kind: 'image.platform', image, platform: p, line: platform.line });
  }
  return out;
}
