// Every object-model check against the fake engine: a pass, and a failure that says what was found and what was expected.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateCheck } from './evaluate.ts';
import { WORKDIR, busybox, container, fakeContext, fakeEngine, image, type FakeEngine } from './fakes.test-support.ts';
import type { CheckSpec } from './types.ts';
import { composeProjectNames, sameImage } from './object-checks.ts';
import { eventFamily, isAffected } from './watcher.ts';

type SpecInput = CheckSpec extends infer S ? (S extends CheckSpec ? Omit<S, 'id' | 'line'> : never) : never;
const spec = (s: SpecInput): CheckSpec => ({ id: 'c1', line: 7, ...s }) as CheckSpec;

const compose = (svc: string, n: number, state: 'running' | 'exited' = 'running') => container({
  name: `counter_${svc}_${n}`, image: svc === 'redis' ? 'redis:7' : 'counter_web', state,
  labels: { 'com.docker.compose.project': 'counter', 'com.docker.compose.service': svc, 'com.docker.compose.oneoff': 'False', 'com.docker.compose.project.working_dir': `${WORKDIR}/counter` },
  networks: ['counter_default'],
});

function world(): FakeEngine {
  const redisImg = image({ name: 'redis:7', sizeBytes: 1e8, layers: ['r'], history: [['x', 1]], config: { healthcheck: ['CMD-SHELL', 'redis-cli ping'], stopSignal: 'SIGQUIT', volumes: ['/data'] } });
  redisImg.platform = 'linux/amd64';
  const e = fakeEngine([busybox, redisImg], [
    compose('web', 1), compose('redis', 1),
    container({
      name: 'db', image: 'redis:7', health: 'healthy', networks: ['app-net'], restartPolicy: 'unless-stopped', env: ['PATH=/bin', 'MODE=fast'], user: 'redis',
      mounts: [{ type: 'volume', source: 'data', destination: '/data' }, { type: 'bind', source: '/root/conf', destination: '/etc/redis' }],
    }),
    container({ name: 'plain', image: 'busybox', networks: ['bridge'] }),
  ]);
  e.volumes.set('data', { name: 'data', driver: 'local', labels: { app: 'counter' } });
  e.networks.set('app-net', { id: 'n1', name: 'app-net', driver: 'bridge', scope: 'local', attachable: false, containers: ['db'], labels: {} });
  return e;
}

async function run(s: CheckSpec, e: FakeEngine = world()) {
  return evaluateCheck(s, fakeContext(e), { timeoutMs: 2000 });
}

function swarm(e: FakeEngine, nodes = 3): FakeEngine {
  e.swarmSelf = { state: 'active', nodeId: 'id1', manager: true, nodes };
  e.nodes = [
    { id: 'id1', hostname: 'node1', role: 'manager', availability: 'active', status: 'ready' },
    { id: 'id2', hostname: 'node2', role: 'worker', availability: 'active', status: 'ready' },
    { id: 'id3', hostname: 'node3', role: 'worker', availability: 'drain', status: 'ready' },
  ].slice(0, nodes) as FakeEngine['nodes'];
  e.serviceList = [
    { id: 's1', name: 'web', image: 'busybox:latest', mode: 'replicated', desired: 5, running: 3, ports: [{ published: 8080, target: 80, protocol: 'tcp' }], labels: {} },
    { id: 's2', name: 'app_redis', image: 'redis:7', mode: 'global', desired: null, running: 3, ports: [], labels: { 'com.docker.stack.namespace': 'app' } },
  ];
  return e;
}

const pass = async (s: CheckSpec, e?: FakeEngine) => {
  const r = await run(s, e);
  assert.equal(r.status, 'pass', r.message);
  return r;
};
const fail = async (s: CheckSpec, e: FakeEngine | undefined, message: RegExp, actual?: string) => {
  const r = await run(s, e);
  assert.equal(r.status, 'fail', r.message);
  assert.match(r.message, message);
  assert.match(r.message, /this step expects/);
  if (actual !== undefined) assert.equal(r.actual, actual);
  return r;
};

describe('volume checks', () => {
  it('exists, exists: false, driver, labels', async () => {
    await pass(spec({ kind: 'volume.exists', volume: 'data', exists: true }));
    await fail(spec({ kind: 'volume.exists', volume: 'nope', exists: true }), undefined, /There is no volume named nope; this step expects a volume named nope/);
    await pass(spec({ kind: 'volume.exists', volume: 'nope', exists: false }));
    await fail(spec({ kind: 'volume.exists', volume: 'data', exists: false }), undefined, /still exists.*docker volume rm data/);
    await pass(spec({ kind: 'volume.driver', volume: 'data', driver: 'local' }));
    await fail(spec({ kind: 'volume.driver', volume: 'data', driver: 'nfs' }), undefined, /uses the local driver; this step expects the nfs driver/, 'driver local');
    await pass(spec({ kind: 'volume.labels', volume: 'data', labels: { app: 'counter' } }));
    await fail(spec({ kind: 'volume.labels', volume: 'data', labels: { app: 'shop' } }), undefined, /lacks app=shop \(its labels: app=counter\); this step expects labels app=shop/);
  });
});

describe('network checks', () => {
  it('exists, driver, attachable, containers', async () => {
    await pass(spec({ kind: 'network.exists', network: 'app-net', exists: true }));
    await fail(spec({ kind: 'network.exists', network: 'other', exists: true }), undefined, /There is no network named other/);
    await pass(spec({ kind: 'network.exists', network: 'other', exists: false }));
    await pass(spec({ kind: 'network.driver', network: 'app-net', driver: 'bridge' }));
    await fail(spec({ kind: 'network.driver', network: 'app-net', driver: 'overlay' }), undefined, /app-net is a bridge network; this step expects a overlay network/);
    await pass(spec({ kind: 'network.attachable', network: 'app-net', attachable: false }));
    await fail(spec({ kind: 'network.attachable', network: 'app-net', attachable: true }), undefined, /is not attachable; this step expects attachable.*--attachable/);
    await pass(spec({ kind: 'network.containers', network: 'app-net', containers: ['db'] }));
    await fail(spec({ kind: 'network.containers', network: 'app-net', containers: ['db', 'web'] }), undefined, /web is not on app-net \(attached: db\).*docker network connect app-net web/);
  });
});

describe('container settings', () => {
  it('health: healthy passes; a container with no health check says so', async () => {
    await pass(spec({ kind: 'container.health', container: 'db', health: 'healthy' }));
    await fail(spec({ kind: 'container.health', container: 'plain', health: 'healthy' }), undefined, /plain is no health check; this step expects healthy — give it a HEALTHCHECK/, 'no health check');
    await fail(spec({ kind: 'container.health', container: 'db', health: 'unhealthy' }), undefined, /db is healthy; this step expects unhealthy/);
    const r = await run(spec({ kind: 'container.health', container: 'ghost', health: 'healthy' }));
    assert.equal(r.status, 'fail');
    assert.equal(r.actual, 'no such container');
  });
  it('networks, mounts, restart, env, image, user', async () => {
    await pass(spec({ kind: 'container.networks', container: 'db', networks: ['app-net'] }));
    await fail(spec({ kind: 'container.networks', container: 'plain', networks: ['app-net'] }), undefined, /plain is on bridge, not app-net; this step expects on app-net/);
    await pass(spec({ kind: 'container.mounts', container: 'db', mounts: ['data:/data', '/root/conf:/etc/redis'] }));
    await fail(spec({ kind: 'container.mounts', container: 'db', mounts: ['other:/data'] }), undefined, /db has mounts data:\/data, \/root\/conf:\/etc\/redis, not other:\/data.*-v other:\/data/);
    await pass(spec({ kind: 'container.restart', container: 'db', policy: 'unless-stopped' }));
    await fail(spec({ kind: 'container.restart', container: 'plain', policy: 'always' }), undefined, /plain has restart policy no; this step expects restart policy always/);
    await pass(spec({ kind: 'container.env', container: 'db', env: { MODE: 'fast' } }));
    await fail(spec({ kind: 'container.env', container: 'db', env: { MODE: 'slow', HOST: 'x' } }), undefined, /db has MODE=fast, no HOST; this step expects MODE=slow, HOST=x/);
    await pass(spec({ kind: 'container.image', container: 'plain', image: 'busybox:latest' }));
    await fail(spec({ kind: 'container.image', container: 'db', image: 'redis:6' }), undefined, /db runs redis:7; this step expects running redis:6/);
    await pass(spec({ kind: 'container.user', container: 'db', user: 'redis' }));
    await fail(spec({ kind: 'container.user', container: 'plain', user: 'nobody' }), undefined, /plain is running as root \(no user set\); this step expects running as nobody/);
  });
});

describe('image metadata', () => {
  it('healthcheck, stop_signal, volumes, platform', async () => {
    await pass(spec({ kind: 'image.healthcheck', image: 'redis:7', present: true }));
    await pass(spec({ kind: 'image.healthcheck', image: 'redis:7', present: true, command: 'redis-cli ping' }));
    await fail(spec({ kind: 'image.healthcheck', image: 'busybox', present: true }), undefined, /busybox has no HEALTHCHECK; this step expects a HEALTHCHECK/);
    await fail(spec({ kind: 'image.healthcheck', image: 'redis:7', present: false }), undefined, /redis:7 has HEALTHCHECK redis-cli ping; this step expects no HEALTHCHECK/);
    await pass(spec({ kind: 'image.stopsignal', image: 'redis:7', signal: 'quit' }));
    await fail(spec({ kind: 'image.stopsignal', image: 'busybox', signal: 'SIGQUIT' }), undefined, /STOPSIGNAL not set \(SIGTERM\); this step expects STOPSIGNAL SIGQUIT/);
    await pass(spec({ kind: 'image.volumes', image: 'redis:7', paths: ['/data'] }));
    await fail(spec({ kind: 'image.volumes', image: 'busybox', paths: ['/data'] }), undefined, /busybox has no VOLUME; this step expects VOLUME \/data/);
    await pass(spec({ kind: 'image.platform', image: 'redis:7', platform: 'linux/amd64' }));
    await pass(spec({ kind: 'image.platform', image: 'redis:7', platform: 'amd64' }));
    await fail(spec({ kind: 'image.platform', image: 'redis:7', platform: 'linux/arm64' }), undefined, /built for linux\/amd64; this step expects built for linux\/arm64/);
  });
});

describe('compose checks', () => {
  it('finds the project by its labels: services, running, replicas', async () => {
    await pass(spec({ kind: 'compose.services', dir: 'counter', services: ['web', 'redis'] }));
    await pass(spec({ kind: 'compose.services', dir: '/root/counter', services: [] }));
    await fail(spec({ kind: 'compose.services', dir: 'counter', services: ['web', 'worker'] }), undefined, /Project counter has the services redis, web, not worker; this step expects services web, worker/);
    await fail(spec({ kind: 'compose.services', dir: 'elsewhere', services: [] }), undefined, /Compose project elsewhere \(elsewhere\) has no containers; this step expects the project up/);
    await pass(spec({ kind: 'compose.running', dir: 'counter' }));
    const e = world();
    e.containerMap.set('counter_web_2', compose('web', 2, 'exited'));
    await fail(spec({ kind: 'compose.running', dir: 'counter' }), e, /In project counter: counter_web_2 exited; this step expects every container running/);
    await pass(spec({ kind: 'compose.replicas', dir: 'counter', service: 'web', replicas: 1 }), e);
    await fail(spec({ kind: 'compose.replicas', dir: 'counter', service: 'web', replicas: 2 }), e, /web has 1 running container; this step expects 2 running containers for web.*--scale web=2/);
  });
  it('project names as Compose v1 and v2 derive them', () => {
    assert.deepEqual(composeProjectNames('/root/my-App'), ['myapp', 'my-app']);
  });
});

describe('swarm checks', () => {
  it('node self: role and swarm state, before and after init', async () => {
    await fail(spec({ kind: 'node.swarm', node: 'self', active: true }), undefined, /This node is not in a swarm \(state inactive\); this step expects in a swarm/);
    await fail(spec({ kind: 'node.role', node: 'self', role: 'manager' }), undefined, /This node is not in a swarm; this step expects a manager/);
    const e = swarm(world());
    await pass(spec({ kind: 'node.swarm', node: 'self', active: true }), e);
    await pass(spec({ kind: 'node.role', node: 'self', role: 'manager' }), e);
    await fail(spec({ kind: 'node.role', node: 'self', role: 'worker' }), e, /This node is a manager; this step expects a worker/);
  });
  it('named nodes: role, availability, membership; not a manager is explained', async () => {
    const e = swarm(world());
    await pass(spec({ kind: 'node.role', node: 'node2', role: 'worker' }), e);
    await pass(spec({ kind: 'node.availability', node: 'node3', availability: 'drain' }), e);
    await fail(spec({ kind: 'node.availability', node: 'node2', availability: 'drain' }), e, /node2 is active; this step expects drain.*--availability drain node2/);
    await fail(spec({ kind: 'node.swarm', node: 'node4', active: true }), e, /node4 is not in the swarm \(its nodes: node1, node2, node3\)/);
    e.swarmSelf = { ...e.swarmSelf, manager: false };
    e.nodes = null;
    await fail(spec({ kind: 'node.role', node: 'node2', role: 'worker' }), e, /not a swarm manager/);
  });
  it('nodes: counts the swarm', async () => {
    await pass(spec({ kind: 'swarm.nodes', min: 3, max: 3 }), swarm(world()));
    await fail(spec({ kind: 'swarm.nodes', min: 3, max: 3 }), swarm(world(), 1), /The swarm has 1 node \(node1\); this step expects 3 nodes/, '1 node (node1)');
    await fail(spec({ kind: 'swarm.nodes', min: 2 }), undefined, /not in a swarm/);
  });
  it('services: replicas count running tasks, image, ports, mode; stacks by namespace', async () => {
    const e = swarm(world());
    await pass(spec({ kind: 'service.exists', service: 'web', exists: true }), e);
    await pass(spec({ kind: 'service.exists', service: 'api', exists: false }), e);
    await pass(spec({ kind: 'service.replicas', service: 'web', replicas: 3 }), e);
    await fail(spec({ kind: 'service.replicas', service: 'web', replicas: 5 }), e, /web has 3 running of 5 desired; this step expects 5 running tasks — the tasks are still starting/);
    await fail(spec({ kind: 'service.replicas', service: 'web', replicas: 2 }), e, /docker service scale web=2/);
    await pass(spec({ kind: 'service.image', service: 'web', image: 'busybox' }), e);
    await fail(spec({ kind: 'service.image', service: 'web', image: 'nginx' }), e, /web runs busybox:latest; this step expects running nginx/);
    await pass(spec({ kind: 'service.ports', service: 'web', ports: [{ published: 8080, target: 80 }] }), e);
    await fail(spec({ kind: 'service.ports', service: 'web', ports: [{ published: 80, target: 80 }] }), e, /web has publishing 8080:80; this step expects publishing 80:80/);
    await pass(spec({ kind: 'service.mode', service: 'app_redis', mode: 'global' }), e);
    await fail(spec({ kind: 'service.mode', service: 'web', mode: 'global' }), e, /web runs in replicated mode; this step expects global mode/);
    await fail(spec({ kind: 'service.replicas', service: 'api', replicas: 1 }), e, /There is no service named api \(services: web, app_redis\)/);
    await pass(spec({ kind: 'stack.services', stack: 'app', services: ['redis'] }), e);
    await fail(spec({ kind: 'stack.services', stack: 'app', services: ['redis', 'web'] }), e, /Stack app has the services redis, not web/);
    await fail(spec({ kind: 'service.exists', service: 'web', exists: true }), undefined, /not in a swarm, so there are no services/);
  });
  it('image names compare with their default tag and registry', () => {
    assert.ok(sameImage('busybox', 'docker.io/library/busybox:latest@sha256:abc'));
    assert.ok(!sameImage('redis:7', 'redis'));
  });
});

describe('the watcher wakes object checks on their events', () => {
  const ev = (type: string, action: string, attributes: Record<string, string> = {}) => ({ type, action, subject: attributes['name'] ?? '', attributes, time: 0 });
  it('volume, network, service and node events have families', () => {
    for (const t of ['volume', 'network', 'service', 'node']) assert.equal(eventFamily(ev(t, 'create')), t);
    assert.equal(eventFamily(ev('container', 'health_status: healthy', { name: 'db' })), 'container');
  });
  it('each wakes its own checks and the checks that read it', () => {
    const v = spec({ kind: 'volume.exists', volume: 'data', exists: true });
    const m = spec({ kind: 'container.mounts', container: 'db', mounts: ['data:/data'] });
    const n = spec({ kind: 'network.driver', network: 'x', driver: 'bridge' });
    const s = spec({ kind: 'service.replicas', service: 'web', replicas: 3 });
    const no = spec({ kind: 'node.availability', node: 'node3', availability: 'drain' });
    const c = spec({ kind: 'compose.running', dir: 'counter' });
    const h = spec({ kind: 'container.health', container: 'db', health: 'healthy' });
    assert.ok(isAffected(v, ev('volume', 'create', { name: 'data' })));
    assert.ok(isAffected(m, ev('volume', 'mount')));
    assert.ok(!isAffected(n, ev('volume', 'create')));
    assert.ok(isAffected(n, ev('network', 'create')));
    assert.ok(isAffected(s, ev('service', 'update')));
    assert.ok(isAffected(s, ev('node', 'update')));
    assert.ok(isAffected(no, ev('node', 'update')));
    assert.ok(!isAffected(no, ev('service', 'update')));
    assert.ok(isAffected(c, ev('container', 'start', { name: 'counter_web_1' })));
    assert.ok(isAffected(h, ev('container', 'health_status: healthy', { name: 'db' })));
    assert.ok(!isAffected(h, ev('container', 'health_status: healthy', { name: 'other' })));
  });
});
