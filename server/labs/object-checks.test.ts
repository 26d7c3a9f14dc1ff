import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseChecks } from './checks.ts';

const kinds = (src: string) => {
  const r = parseChecks(src, 1);
  assert.deepEqual(r.problems, []);
  return r.checks.map(({ id: _id, ...c }) => c);
};
const problems = (src: string, first = 1) => parseChecks(src, first).problems;

describe('object-model check syntax', () => {
  it('volume: exists, driver, labels; a bare volume means it exists', () => {
    assert.deepEqual(kinds('- volume: data\n  driver: local\n  labels: {app: counter}\n- volume: old\n  exists: false\n- volume: bare\n'), [
      { kind: 'volume.driver', volume: 'data', driver: 'local', line: 2, title: 'Volume data uses the local driver' },
      { kind: 'volume.labels', volume: 'data', labels: { app: 'counter' }, line: 3, title: 'Volume data has the labels app=counter' },
      { kind: 'volume.exists', volume: 'old', exists: false, line: 5, title: 'There is no volume old' },
      { kind: 'volume.exists', volume: 'bare', exists: true, line: 6, title: 'Volume bare exists' },
    ]);
  });

  it('network: driver, attachable, containers', () => {
    const c = kinds('network: app-net\ndriver: overlay\nattachable: true\ncontainers: [web, redis]\n');
    assert.deepEqual(c.map((x) => x.kind), ['network.driver', 'network.attachable', 'network.containers']);
    assert.deepEqual((c[2] as { containers: string[] }).containers, ['web', 'redis']);
    assert.equal(c[2]!.title, 'web and redis are on network app-net');
  });

  it('container gains health, networks, mounts, restart, env, image, user; "image:" there is a key, not a subject', () => {
    const c = kinds([
      'container: web', 'health: healthy', 'networks: app-net', 'mounts: ["data:/data", "/root/site:/www"]', 'restart: unless-stopped',
      'env: {REDIS_HOST: redis, PORT: 8080}', 'image: redis:7', 'user: 1000',
    ].join('\n'));
    assert.deepEqual(c.map((x) => x.kind), ['container.health', 'container.networks', 'container.mounts', 'container.restart', 'container.env', 'container.image', 'container.user']);
    assert.deepEqual((c[4] as { env: object }).env, { REDIS_HOST: 'redis', PORT: '8080' });
    assert.equal((c[6] as { user: string }).user, '1000');
    assert.deepEqual(kinds('container: x\nrestart: no\n').map((x) => (x as { policy: string }).policy), ['no']);
  });

  it('image gains healthcheck (true/false or its command), stop_signal, volumes, platform', () => {
    const c = kinds('image: app:v1\nhealthcheck: redis-cli ping\nstop_signal: SIGQUIT\nvolumes: [/data]\nplatform: linux/amd64\n- image: app:v2\n  healthcheck: false\n'.replace('- image', 'x').split('x')[0]!);
    assert.deepEqual(c.map((x) => x.kind), ['image.healthcheck', 'image.stopsignal', 'image.volumes', 'image.platform']);
    assert.deepEqual(kinds('image: a\nhealthcheck: false\n')[0], { kind: 'image.healthcheck', image: 'a', present: false, line: 2, title: 'Image a has no HEALTHCHECK' });
  });

  it('compose: services, running, replicas per service; bare means the project is up', () => {
    const c = kinds('- compose: counter\n  services: [web, redis]\n  running: true\n  replicas: {web: 2, redis: 1}\n- compose: other\n');
    assert.deepEqual(c.map((x) => x.kind), ['compose.services', 'compose.running', 'compose.replicas', 'compose.replicas', 'compose.services']);
    assert.deepEqual(c[3], { kind: 'compose.replicas', dir: 'counter', service: 'redis', replicas: 1, line: 4, title: 'Service redis of counter runs 1 container' });
    assert.deepEqual((c[4] as { services: string[] }).services, []);
  });

  it('node, nodes, service, stack', () => {
    const c = kinds([
      '- node: self', '  role: manager', '  swarm: active', '- node: node3', '  availability: drain', '- nodes: 3', '- nodes: at least 2',
      '- service: web', '  replicas: 5', '  image: busybox', '  ports: ["8080:80"]', '  mode: replicated', '- stack: app', '  services: [web, redis]',
    ].join('\n'));
    assert.deepEqual(c.map((x) => x.kind), ['node.role', 'node.swarm', 'node.availability', 'swarm.nodes', 'swarm.nodes', 'service.replicas', 'service.image', 'service.ports', 'service.mode', 'stack.services']);
    assert.deepEqual(c[3], { kind: 'swarm.nodes', min: 3, max: 3, line: 6, title: 'The swarm has 3 nodes' });
    assert.deepEqual(c[4], { kind: 'swarm.nodes', min: 2, line: 7, title: 'The swarm has at least 2 nodes' });
    assert.deepEqual((c[7] as { ports: object }).ports, [{ published: 8080, target: 80 }]);
    assert.equal(c[0]!.title, 'This node is a swarm manager');
    assert.equal(c[2]!.title, 'Node node3 is drained');
  });

  it('a misspelt key is refused at its line with the list of valid keys', () => {
    assert.deepEqual(problems('- volume: data\n  drivr: local\n', 20), [{ line: 21, message: 'unknown key "drivr" in a volume check (use exists, driver, labels)' }]);
    assert.deepEqual(problems('- service: web\n  replica: 3\n'), [{ line: 2, message: 'unknown key "replica" in a service check (use exists, replicas, image, ports, mode)' }]);
    assert.match(problems('- container: web\n  healthy: true\n')[0]!.message, /unknown key "healthy" in a container check \(use .*health, networks, mounts, restart, env, image, user\)/);
    assert.match(problems('- image: a\n  stopsignal: 1\n  health: x\n')[0]!.message, /healthcheck, stop_signal, volumes, platform/);
  });

  it('bad values say what to write', () => {
    assert.deepEqual(problems('- container: web\n  health: ok\n'), [{ line: 2, message: '"health" is healthy, unhealthy or starting, not "ok"' }]);
    assert.deepEqual(problems('- container: web\n  restart: sometimes\n'), [{ line: 2, message: '"restart" is no, always, unless-stopped or on-failure, not "sometimes"' }]);
    assert.deepEqual(problems('- service: web\n  ports: [8080]\n'), [{ line: 2, message: 'bad port "8080": write published:target, e.g. "8080:80"' }]);
    assert.deepEqual(problems('- node: self\n  role: boss\n'), [{ line: 2, message: '"role" is manager or worker, not "boss"' }]);
    assert.deepEqual(problems('- compose: x\n  replicas: 2\n'), [{ line: 2, message: '"replicas" maps each service to its number of running containers, e.g. {web: 2, redis: 1}' }]);
    assert.deepEqual(problems('- nodes: many\n'), [{ line: 1, message: 'bad node count "many": write 3, "at least 2" or 2..5' }]);
    assert.deepEqual(problems('- container: web\n  mounts: [data]\n'), [{ line: 2, message: 'bad mount "data": write "volume:/path" or "/host/path:/path"' }]);
    assert.match(problems('- foo: bar\n')[0]!.message, /volume:, network:, compose:, node:, nodes:, service: or stack:/);
  });
});
