// The object-model checks against REAL engines: two sandboxes on one session network, with volumes,
// networks, a healthy container, an image with metadata, a Compose project, a two-node swarm with a
// service, an overlay network and a stack. Each key passes on the real thing and fails with a message
// that says what was found; the watcher wakes on real volume, network, service and node events.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import { createDockerSandboxDriver, DEFAULT_LIMITS, type SandboxDriver, type SandboxRef } from '../../sandbox/driver/index.ts';
import type { EngineEvent } from '../../sandbox/driver/types.ts';
import { type CheckContext, evaluateChecks } from './evaluate.ts';
import type { CheckResult, CheckSpec } from './types.ts';
import { createCheckWatcher } from './watcher.ts';

async function engineAnswers(): Promise<boolean> {
  try {
    await new Docker({ socketPath: '/var/run/docker.sock' }).ping();
    return true;
  } catch {
    return false;
  }
}
const noEngine = !(await engineAnswers());
if (noEngine) console.log('# SKIP object checks integration: no Docker engine answers (run `npm run setup`).');

let n = 0;
type SpecInput = CheckSpec extends infer S ? (S extends CheckSpec ? Omit<S, 'id' | 'line'> : never) : never;
const c = (s: SpecInput): CheckSpec => ({ id: `oc${++n}`, line: n, ...s }) as CheckSpec;

const COMPOSE = `services:
  web:
    image: busybox
    command: httpd -f -p 80
    ports: ["8000-8001:80"]
    depends_on:
      cache:
        condition: service_healthy
  cache:
    image: redis:7
    volumes: [cache-data:/data]
    healthcheck:
      test: ["CMD", "redis-cli", "ping"]
      interval: 1s
      retries: 20
volumes:
  cache-data:
`;

const STACK = `version: "3.8"
services:
  api:
    image: busybox
    command: sleep 3600
  worker:
    image: busybox
    command: sleep 3600
`;

const DOCKERFILE = `FROM busybox
HEALTHCHECK --interval=1s CMD ["true"]
STOPSIGNAL SIGQUIT
VOLUME /data
USER nobody
`;

describe('object-model checks against real sandboxes', { skip: noEngine, timeout: 15 * 60_000 }, () => {
  let driver: SandboxDriver;
  let refs: SandboxRef[] = [];
  let ctx: CheckContext;
  const dataDir = process.env.LABLAB_TEST_DATA_DIR ?? path.join(os.tmpdir(), 'lablab-checks-it');
  const sessionId = `objects-it-${process.pid}`;

  const sh = async (i: number, script: string, timeoutMs = 180_000): Promise<string> => {
    const r = await driver.exec(refs[i]!, ['bash', '-lc', script], { timeoutMs });
    assert.equal(r.exitCode, 0, `${script}\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  const byId = (rs: CheckResult[]) => new Map(rs.map((r) => [r.id, r]));

  before(async () => {
    driver = createDockerSandboxDriver({ dataDir, ownerId: 'objects-it', log: () => {} });
    const network = await driver.createSessionNetwork(sessionId);
    const t0 = Date.now();
    refs = await Promise.all([1, 2].map((node) => driver.create({
      sessionId, node, images: ['busybox', 'redis:7'], network, limits: DEFAULT_LIMITS, expiresAt: Date.now() + 30 * 60_000,
    })));
    refs.sort((a, b) => a.node - b.node);
    await Promise.all(refs.map((r) => driver.waitReady(r, { timeoutMs: 120_000 })));
    console.log(`# two sandboxes ready in ${Date.now() - t0} ms`);
    const r1 = refs[0]!;
    ctx = { engine: driver.engine(r1), exec: (cmd, o) => driver.exec(r1, cmd, { timeoutMs: o?.timeoutMs }), workdir: r1.workdir, now: () => Date.now() };
  });

  after(async () => {
    for (const r of refs) await driver.destroy(r).catch((e) => console.error('cleanup', e));
    await driver.removeSessionNetwork(sessionId).catch(() => {});
    await driver.dispose();
  });

  it('volumes, networks, container settings and image metadata', async () => {
    const t0 = Date.now();
    await sh(0, [
      'docker volume create --label app=counter data >/dev/null',
      'docker network create app-net >/dev/null',
      'mkdir -p /root/conf',
      'docker run -d --name db --network app-net -v data:/data -v /root/conf:/etc/conf --restart unless-stopped -e MODE=fast --health-cmd "redis-cli ping" --health-interval 1s redis:7 >/dev/null',
      'docker run -d --name plain busybox sleep 300 >/dev/null',
      'docker run -d --name someone --user nobody busybox sleep 300 >/dev/null',
      `mkdir -p /root/meta && printf '${DOCKERFILE.replace(/\n/g, '\\n')}' > /root/meta/Dockerfile && DOCKER_BUILDKIT=0 docker build -q -t meta:v1 /root/meta >/dev/null`,
      'for i in $(seq 1 30); do [ "$(docker inspect -f "{{.State.Health.Status}}" db)" = healthy ] && break; sleep 1; done',
    ].join(' && '));
    console.log(`# setup took ${Date.now() - t0} ms`);
    const specs = [
      c({ kind: 'volume.exists', volume: 'data', exists: true }),
      c({ kind: 'volume.driver', volume: 'data', driver: 'local' }),
      c({ kind: 'volume.labels', volume: 'data', labels: { app: 'counter' } }),
      c({ kind: 'network.exists', network: 'app-net', exists: true }),
      c({ kind: 'network.driver', network: 'app-net', driver: 'bridge' }),
      c({ kind: 'network.attachable', network: 'app-net', attachable: false }),
      c({ kind: 'network.containers', network: 'app-net', containers: ['db'] }),
      c({ kind: 'container.health', container: 'db', health: 'healthy' }),
      c({ kind: 'container.networks', container: 'db', networks: ['app-net'] }),
      c({ kind: 'container.mounts', container: 'db', mounts: ['data:/data', '/root/conf:/etc/conf'] }),
      c({ kind: 'container.restart', container: 'db', policy: 'unless-stopped' }),
      c({ kind: 'container.env', container: 'db', env: { MODE: 'fast' } }),
      c({ kind: 'container.image', container: 'db', image: 'redis:7' }),
      c({ kind: 'container.user', container: 'someone', user: 'nobody' }),
      c({ kind: 'image.healthcheck', image: 'meta:v1', present: true, command: 'true' }),
      c({ kind: 'image.stopsignal', image: 'meta:v1', signal: 'SIGQUIT' }),
      c({ kind: 'image.volumes', image: 'meta:v1', paths: ['/data'] }),
      c({ kind: 'image.platform', image: 'meta:v1', platform: `linux/${process.arch === 'x64' ? 'amd64' : process.arch}` }),
      c({ kind: 'image.volumes', image: 'redis:7', paths: ['/data'] }),
    ];
    const t1 = Date.now();
    const rs = await evaluateChecks(specs, ctx, { timeoutMs: 30_000 });
    console.log(`# ${specs.length} checks in ${Date.now() - t1} ms`);
    for (const r of rs) assert.equal(r.status, 'pass', `${r.id}: ${r.message}`);

    const wrong = [
      c({ kind: 'volume.exists', volume: 'nope', exists: true }),
      c({ kind: 'volume.labels', volume: 'data', labels: { app: 'shop' } }),
      c({ kind: 'network.containers', network: 'app-net', containers: ['plain'] }),
      c({ kind: 'container.health', container: 'plain', health: 'healthy' }),
      c({ kind: 'container.networks', container: 'plain', networks: ['app-net'] }),
      c({ kind: 'container.mounts', container: 'plain', mounts: ['data:/data'] }),
      c({ kind: 'container.restart', container: 'plain', policy: 'always' }),
      c({ kind: 'container.env', container: 'db', env: { MODE: 'slow' } }),
      c({ kind: 'container.image', container: 'plain', image: 'redis:7' }),
      c({ kind: 'container.user', container: 'plain', user: 'nobody' }),
      c({ kind: 'image.healthcheck', image: 'busybox', present: true }),
      c({ kind: 'image.stopsignal', image: 'busybox', signal: 'SIGQUIT' }),
      c({ kind: 'image.volumes', image: 'busybox', paths: ['/data'] }),
      c({ kind: 'image.platform', image: 'meta:v1', platform: 'linux/s390x' }),
    ];
    const bad = byId(await evaluateChecks(wrong, ctx, { timeoutMs: 30_000 }));
    for (const s of wrong) {
      const r = bad.get(s.id)!;
      assert.equal(r.status, 'fail', `${s.kind} should fail: ${r.message}`);
      assert.equal(r.problem, undefined, `${s.kind}: a verdict, not a problem: ${r.message}`);
      assert.ok(r.actual && r.expected, `${s.kind} says what it found and what it expected`);
    }
    assert.match(bad.get(wrong[3]!.id)!.message, /plain is no health check; this step expects healthy/);
    assert.match(bad.get(wrong[5]!.id)!.message, /plain has no mounts, not data:\/data/);
    assert.match(bad.get(wrong[7]!.id)!.message, /db has MODE=fast; this step expects MODE=slow/);
  });

  it('a Compose project, found by its labels: services, running, replicas, its network and volume', async () => {
    await sh(0, `mkdir -p /root/shop && cd /root/shop && cat > docker-compose.yml <<'EOF'\n${COMPOSE}EOF\ndocker compose up -d 2>&1 && docker-compose up -d --scale web=2 2>&1`);
    const specs = [
      c({ kind: 'compose.services', dir: 'shop', services: ['web', 'cache'] }),
      c({ kind: 'compose.running', dir: 'shop' }),
      c({ kind: 'compose.replicas', dir: 'shop', service: 'web', replicas: 2 }),
      c({ kind: 'compose.replicas', dir: '/root/shop', service: 'cache', replicas: 1 }),
      c({ kind: 'network.containers', network: 'shop_default', containers: ['shop_web_1', 'shop_web_2', 'shop_cache_1'] }),
      c({ kind: 'volume.exists', volume: 'shop_cache-data', exists: true }),
      c({ kind: 'container.health', container: 'shop_cache_1', health: 'healthy' }),
      c({ kind: 'container.mounts', container: 'shop_cache_1', mounts: ['shop_cache-data:/data'] }),
    ];
    for (const r of await evaluateChecks(specs, ctx, { timeoutMs: 30_000 })) assert.equal(r.status, 'pass', `${r.id}: ${r.message}`);
    const [svc, rep] = await evaluateChecks([
      c({ kind: 'compose.services', dir: 'shop', services: ['web', 'db'] }),
      c({ kind: 'compose.replicas', dir: 'shop', service: 'web', replicas: 3 }),
    ], ctx, { timeoutMs: 30_000 });
    assert.match(svc!.message, /Project shop has the services cache, web, not db; this step expects services web, db/);
    assert.match(rep!.message, /web has 2 running containers; this step expects 3 running containers for web/);
  });

  it('the watcher wakes a pending volume check on the real volume event', async () => {
    const spec = c({ kind: 'volume.exists', volume: 'late', exists: true });
    const seen: EngineEvent[] = [];
    const stop = ctx.engine.events((e) => seen.push(e), () => {});
    let done!: (r: CheckResult[]) => void;
    const passed = new Promise<CheckResult[]>((res) => (done = res));
    const w = createCheckWatcher({ ctx, pendingChecks: () => [spec], onResults: (rs) => rs.some((r) => r.status === 'pass') && done(rs) });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const t0 = Date.now();
      await sh(0, 'docker volume create late >/dev/null');
      const rs = await Promise.race([passed, new Promise<null>((r) => setTimeout(() => r(null), 10_000))]);
      assert.ok(rs, `the watcher re-evaluated after the volume event (events seen: ${seen.map((e) => `${e.type}/${e.action}`).join(', ')})`);
      console.log(`# volume check ticked ${Date.now() - t0} ms after docker volume create`);
      assert.ok(seen.some((e) => e.type === 'volume' && e.action === 'create'));
    } finally {
      w.dispose();
      stop();
    }
  });

  it('Swarm: init, join across the session network, nodes, roles, a service with running tasks, ports, an overlay network and a stack', async () => {
    const specsBefore = [c({ kind: 'node.swarm', node: 'self', active: true }), c({ kind: 'swarm.nodes', min: 2, max: 2 })];
    const before = await evaluateChecks(specsBefore, ctx, { timeoutMs: 30_000 });
    assert.match(before[0]!.message, /This node is not in a swarm \(state inactive\)/);
    const seen: EngineEvent[] = [];
    const stop = ctx.engine.events((e) => seen.push(e), () => {});
    const t0 = Date.now();
    await sh(0, 'docker swarm init --advertise-addr eth0 >/dev/null');
    const token = (await sh(0, 'docker swarm join-token -q worker')).trim();
    await sh(1, `docker swarm join --token ${token} node1:2377`);
    console.log(`# swarm of two formed in ${Date.now() - t0} ms`);
    await sh(0, [
      `docker service create -q --name web --replicas 2 --publish mode=host,published=8080,target=80 busybox httpd -f -p 80 >/dev/null`,
      'docker network create -d overlay --attachable overlay-net >/dev/null',
      `cat > /root/stack.yml <<'EOF'\n${STACK}EOF\ndocker stack deploy -c /root/stack.yml app >/dev/null`,
      'for i in $(seq 1 60); do [ "$(docker service ls --filter name=app_api --format "{{.Replicas}}")" = 1/1 ] && break; sleep 1; done',
    ].join(' && '));
    const specs = [
      c({ kind: 'node.swarm', node: 'self', active: true }),
      c({ kind: 'node.role', node: 'self', role: 'manager' }),
      c({ kind: 'node.role', node: 'node2', role: 'worker' }),
      c({ kind: 'node.swarm', node: 'node2', active: true }),
      c({ kind: 'node.availability', node: 'node2', availability: 'active' }),
      c({ kind: 'swarm.nodes', min: 2, max: 2 }),
      c({ kind: 'service.exists', service: 'web', exists: true }),
      c({ kind: 'service.replicas', service: 'web', replicas: 2 }),
      c({ kind: 'service.image', service: 'web', image: 'busybox' }),
      c({ kind: 'service.ports', service: 'web', ports: [{ published: 8080, target: 80 }] }),
      c({ kind: 'service.mode', service: 'web', mode: 'replicated' }),
      c({ kind: 'network.driver', network: 'overlay-net', driver: 'overlay' }),
      c({ kind: 'network.attachable', network: 'overlay-net', attachable: true }),
      c({ kind: 'stack.services', stack: 'app', services: ['api', 'worker'] }),
    ];
    const t1 = Date.now();
    const rs = await evaluateChecks(specs, ctx, { timeoutMs: 30_000 });
    console.log(`# ${specs.length} swarm checks in ${Date.now() - t1} ms`);
    for (const r of rs) assert.equal(r.status, 'pass', `${r.id}: ${r.message}`);
    // Each task on its own node answers on its node's port: node2's through the session network.
    assert.match(await sh(0, 'curl -s -o /dev/null -w "%{http_code}" http://node2:8080/ || true'), /^\d{3}$/);

    await sh(0, 'docker node update --availability drain node2 >/dev/null && for i in $(seq 1 30); do [ -z "$(docker service ps web -q --filter node=node2 --filter desired-state=running)" ] && break; sleep 1; done; sleep 1');
    const wrong = await evaluateChecks([
      c({ kind: 'node.availability', node: 'node2', availability: 'active' }),
      c({ kind: 'service.replicas', service: 'web', replicas: 2 }),
      c({ kind: 'node.role', node: 'node2', role: 'manager' }),
      c({ kind: 'swarm.nodes', min: 3 }),
      c({ kind: 'service.mode', service: 'web', mode: 'global' }),
      c({ kind: 'stack.services', stack: 'app', services: ['db'] }),
    ], ctx, { timeoutMs: 30_000 });
    assert.match(wrong[0]!.message, /node2 is drain; this step expects active/);
    // Drained, node2's task has nowhere to go (the host port is taken on node1): running, not desired, counts.
    assert.match(wrong[1]!.message, /web has 1 running of 2 desired; this step expects 2 running tasks/);
    assert.match(wrong[2]!.message, /node2 is a worker; this step expects a manager/);
    assert.match(wrong[3]!.message, /The swarm has 2 nodes \(node1, node2\); this step expects at least 3 nodes/);
    assert.match(wrong[4]!.message, /web runs in replicated mode; this step expects global mode/);
    assert.match(wrong[5]!.message, /Stack app has the services api, worker, not db/);
    // The event stream carries the types the watcher now follows.
    stop();
    for (const t of ['node', 'service', 'network']) assert.ok(seen.some((e) => e.type === t), `a ${t} event was seen (${[...new Set(seen.map((e) => e.type))].join(', ')})`);
  });
});
