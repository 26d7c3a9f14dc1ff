// A remote engine for real: a second dockerd on this host listening on TCP with TLS on 127.0.0.1
// (--tlsverify, certificates made by openssl), reached only through tcp:// + client certificate.
// One sandbox through the remote variant: ready, exec, the inner engine, files, a port, a terminal
// over the exec transport; then nothing of ours is left on that engine. And: a wrong client
// certificate or no TLS is refused with a clear error.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import Docker from 'dockerode';
import * as tarStream from 'tar-stream';
import { createDockerSandboxDriver } from './docker-driver.ts';
import { hostIsolationRule } from './networks.ts';
import { dockerOptions, parseEngine, parseEngines, type EngineSpec } from './engines-config.ts';
import { egressTag } from './egress.ts';
import { createEngineFleetFromSpecs, createFleetMember } from './engine-members.ts';
import { builtSandboxImage } from './image-tag.ts';
import { shipImages } from './image-ship.ts';
import { makeCerts, startSecondEngine, type SecondEngine } from './second-engine.test-support.ts';
import { LABELS, type SandboxRef } from './types.ts';
import { spawnExecAttach } from '../../server/terminals/exec-attach.ts';
import { createTerminalTransport } from '../../server/terminals/transport.ts';

const tag = randomBytes(3).toString('hex');
const owner = `test-rm-${tag}`;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-rm-'));
const log = (m: string, e?: unknown) => process.env.DEBUG && console.error(`[remote] ${m}`, e ?? '');
const host = new Docker({ socketPath: '/var/run/docker.sock' });
/** A pool no other test uses; the host-isolation rule for it is removed at the end. */
const POOL = '10.229.0.0/16';
const FLEET_POOL = '10.226.0.0/16';

let engine: SecondEngine;
let spec: EngineSpec;

async function readTar(stream: Readable): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const x = tarStream.extract();
  x.on('entry', (h, s, next) => {
    let b = '';
    s.on("data", (c: unknown) => (b += String(c)));
    s.on('end', () => ((out[h.name] = b), next()));
  });
  stream.pipe(x);
  await new Promise<void>((r) => x.on("finish", () => r()));
  return out;
}

describe('a remote engine over TCP with TLS', { timeout: 600_000 }, () => {
  before(async () => {
    engine = await startSecondEngine({ dir: path.join(dir, 'engine'), name: `rm${tag}`, tls: true });
    spec = parseEngine({ id: 'far', url: `tcp://${engine.tcp!.host}:${engine.tcp!.port}`, tls: engine.tcp!.client }, 1);
    // What the fleet ships before a create (engine-members.ts): the sandbox image and the lab's images,
    // here through the TLS connection too.
    await shipImages({ from: host, to: new Docker(dockerOptions(spec, (p) => fs.readFileSync(p)) as Docker.DockerOptions), images: [builtSandboxImage(), 'busybox:latest'] });
  });

  after(async () => {
    spawnSync('iptables', ['-D', ...hostIsolationRule(POOL)]);
    spawnSync('iptables', ['-D', ...hostIsolationRule(FLEET_POOL)]);
    await engine?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('on a cgroup v1 engine, a remote sandbox is refused unless unlimited is allowed: its limits could be raised from inside', async () => {
    const strict = createDockerSandboxDriver({
      dataDir: path.join(dir, 'strict'),
      ownerId: `${owner}-strict`,
      docker: dockerOptions(spec, (p) => fs.readFileSync(p)) as Docker.DockerOptions,
      remote: true,
      subnetPool: POOL,
      log,
    });
    try {
      await assert.rejects(
        strict.create({ sessionId: `strict-${tag}`, node: 1, images: [], network: 'none', limits: { memoryMiB: 512, pids: 512, cpuShares: 512, diskGiB: 1 }, expiresAt: Date.now() + 60_000 }),
        /uses cgroup v1: .*could raise.*SANDBOX_ALLOW_UNLIMITED=1/,
      );
      const remote = new Docker(dockerOptions(spec, (p) => fs.readFileSync(p)) as Docker.DockerOptions);
      assert.equal((await remote.listContainers({ all: true, filters: { label: [`${LABELS.owner}=${owner}-strict`] } })).length, 0, 'refused before anything was made');
    } finally {
      await strict.dispose();
    }
  });

  test('a sandbox through tcp:// + TLS: ready, exec, inner engine, files, port, exec terminal; nothing left after', async () => {
    const remote = new Docker(dockerOptions(spec, (p) => fs.readFileSync(p)) as Docker.DockerOptions);
    const driver = createDockerSandboxDriver({
      dataDir: path.join(dir, 'data'),
      ownerId: owner,
      docker: dockerOptions(spec, (p) => fs.readFileSync(p)) as Docker.DockerOptions,
      remote: true,
      // This host's cgroups are v1: container limits only, which the remote site refuses without this.
      allowUnlimited: true,
      subnetPool: POOL,
      limits: { memoryMiB: 512, pids: 512, cpuShares: 512, diskGiB: 1 },
      log,
    });
    const sessionId = `rm-${tag}`;
    let ref: SandboxRef | undefined;
    let rules = (): string[] => [];
    const volumes = async (kind: string) => ((await remote.listVolumes({ filters: { label: [`${LABELS.owner}=${owner}`, `${LABELS.kind}=${kind}`] } })).Volumes ?? []).map((v) => v.Name).sort();
    try {
      const network = await driver.createSessionNetwork(sessionId);
      // The egress rules were installed on the engine's host (this one, here) by a helper container.
      rules = () => spawnSync('iptables', ['-S', 'DOCKER-USER'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.includes(egressTag(network)));
      assert.ok(rules().length > 0, 'egress rules for the session network');
      const t0 = Date.now();
      ref = await driver.create({ sessionId, node: 1, images: ['busybox'], network, limits: { memoryMiB: 512, pids: 512, cpuShares: 512, diskGiB: 1 }, expiresAt: Date.now() + 600_000 });
      await driver.waitReady(ref, { timeoutMs: 60_000 });
      log(`create→ready ${Date.now() - t0} ms`);
      assert.equal(ref.socketDir, '', 'nothing of a remote sandbox is on this host');

      const r = await driver.exec(ref, ['bash', '-c', 'echo hello from $(hostname)']);
      assert.equal(r.stdout.trim(), 'hello from node1');

      // The check path: the inner engine through the remote engine's API alone.
      const inner = driver.engine(ref);
      assert.ok((await inner.imageTags()).includes('busybox:latest'));
      assert.equal((await inner.image('busybox'))?.tags.includes('busybox:latest'), true);
      // The events stream (what ticks steps by themselves) stays open through its relay.
      const seen: string[] = [];
      const stop = inner.events((e) => seen.push(`${e.type} ${e.action}`), () => {});
      await new Promise((res) => setTimeout(res, 500));
      await driver.exec(ref, ['docker', 'tag', 'busybox', `mine:v1`]);
      for (let i = 0; i < 100 && !seen.includes('image tag'); i++) await new Promise((res) => setTimeout(res, 50));
      stop();
      assert.ok(seen.includes('image tag'), `events seen: ${seen.join(', ')}`);

      // Files in and out.
      const pack = tarStream.pack();
      pack.entry({ name: 'note.txt' }, 'written from the server\n');
      pack.finalize();
      await driver.putArchive(ref, '/root', pack as unknown as Readable);
      assert.deepEqual(await readTar(await driver.getArchive(ref, '/root/note.txt')), { 'note.txt': 'written from the server\n' });

      // A port published by an inner container, relayed through an exec.
      const run = await driver.exec(ref, ['docker', 'run', '-d', '-p', '8080:8080', 'busybox', 'sh', '-c', 'echo remote-ok > /index.html; httpd -f -p 8080 -h /'], { timeoutMs: 30_000 });
      assert.equal(run.exitCode, 0, run.stderr);
      let body = '';
      for (let i = 0; i < 50 && !body.includes('remote-ok'); i++) {
        const s = await driver.connectPort(ref, 8080);
        body = '';
        s.on('data', (c: Buffer) => (body += c));
        s.end('GET /index.html HTTP/1.0\r\n\r\n');
        await new Promise((res) => s.on('end', res).on('close', res).on('error', res));
        if (!body.includes('remote-ok')) await new Promise((res) => setTimeout(res, 100));
      }
      assert.match(body, /200 OK[\s\S]*remote-ok/);

      // The terminal: `auto` picks the exec transport for a remote sandbox, and a round trip works.
      const wire = createTerminalTransport({ mode: 'auto', spawnLocal: () => assert.fail('no local dtach for a remote sandbox'), ensureLocal: () => assert.fail('no local shell check'), shell: driver })(ref);
      assert.equal(wire.kind, 'exec');
      await wire.ensureShell();
      const p = spawnExecAttach({ open: (c, rr) => driver.attachShell(ref!, c, rr), log }, 100, 30);
      let out = '';
      p.onData((d) => (out += d));
      p.write('echo round-$((6*7))\r');
      const deadline = Date.now() + 15_000;
      while (!/round-42/.test(out) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
      assert.match(out, /round-42/);
      p.kill();

      // Volumes exist while it runs, all labelled.
      const vols = (await remote.listVolumes({ filters: { label: [`${LABELS.owner}=${owner}`] } })).Volumes ?? [];
      assert.ok(vols.length >= 3, `named volumes for data-root, /root and /tmp: ${vols.map((v) => v.Name)}`);
      // The next create takes the spare copy made after the first: its volumes were there before it.
      const beforeSecond = await volumes('sandbox-volume');
      const t1 = Date.now();
      const ref2 = await driver.create({ sessionId, node: 2, images: ['busybox'], network, limits: { memoryMiB: 512, pids: 512, cpuShares: 512, diskGiB: 1 }, expiresAt: Date.now() + 600_000 });
      try {
        assert.ok(beforeSecond.includes(`lablab-sbx-${ref2.id}-docker`), `${ref2.id} took a spare: ${beforeSecond.join(', ')}`);
        await driver.waitReady(ref2, { timeoutMs: 60_000 });
        log(`second create→ready (a spare) ${Date.now() - t1} ms`);
        assert.equal((await driver.exec(ref2, ['docker', 'image', 'ls', '-q', 'busybox'])).stdout.trim().length > 0, true);
      } finally {
        await driver.destroy(ref2);
      }
      // destroy alone removes them (the reaper is only for what a killed process left).
      const mine = (await volumes('sandbox-volume')).filter((v) => v.startsWith(`lablab-sbx-${ref!.id}-`));
      assert.equal(mine.length, 3);
      await driver.destroy(ref);
      assert.deepEqual((await volumes('sandbox-volume')).filter((v) => mine.includes(v)), []);
      ref = undefined;
    } finally {
      if (ref) await driver.destroy(ref);
      await driver.removeSessionNetwork(sessionId);
      assert.deepEqual(rules(), [], 'the egress rules go with the network');
      // What a killed process leaves: a sandbox volume without its sandbox, a template volume whose
      // images changed. The reaper removes both and keeps the template that is still current.
      const labels = { [LABELS.managed]: '1', [LABELS.owner]: owner };
      await remote.createVolume({ Name: 'lablab-sbx-0rphan0rphan-docker', Labels: { ...labels, [LABELS.kind]: 'sandbox-volume', 'io.lablab.sandbox': '0rphan0rphan' } });
      await remote.createVolume({ Name: `lablab-tmpl-stale-${tag}`, Labels: { ...labels, [LABELS.kind]: 'template', 'io.lablab.images': 'busybox:latest' } });
      const templatesBefore = await volumes('template');
      await driver.reap({ now: Date.now() + 10 * 60_000, isLive: () => false });
      assert.deepEqual(await volumes('template'), templatesBefore.filter((n) => n !== `lablab-tmpl-stale-${tag}`), 'the stale template volume is pruned, the current one kept');
      assert.equal(templatesBefore.length, 2);
      await driver.dispose();
    }
    const left = {
      containers: (await remote.listContainers({ all: true, filters: { label: [`${LABELS.owner}=${owner}`] } })).map((c) => c.Names[0]),
      sandboxVolumes: ((await remote.listVolumes({ filters: { label: [`${LABELS.owner}=${owner}`, `${LABELS.kind}=sandbox-volume`] } })).Volumes ?? []).map((v) => v.Name),
      networks: (await remote.listNetworks({ filters: { label: [`${LABELS.owner}=${owner}`] } })).map((n) => n.Name),
    };
    assert.deepEqual(left, { containers: [], sandboxVolumes: [], networks: [] });
  });

  test('a wrong client certificate, or no TLS, is refused with a clear error', async () => {
    const other = makeCerts(path.join(dir, 'other'), 'x-');
    const wrong = parseEngine({ id: 'wrong', url: spec.url, tls: { ...other.client, ca: engine.tcp!.client.ca } }, 1);
    const member = createFleetMember(wrong, 1, { dataDir: path.join(dir, 'wrong'), ownerId: owner, remote: true } as never, host);
    await assert.rejects(member.probe(), (e: Error) => /engine wrong \(tcp:\/\/127\.0\.0\.1:\d+\): the TLS handshake failed/.test(e.message));
    const plain = new Docker({ protocol: 'http', host: engine.tcp!.host, port: engine.tcp!.port });
    await assert.rejects(plain.ping(), (e: Error & { statusCode?: number }) => e.statusCode === 400 || /Client sent an HTTP request to an HTTPS server|socket hang up|ECONNRESET/.test(e.message));
  });

  test('through the fleet (ENGINES_FILE with a tcp engine): a session on the remote engine, with lab files', async () => {
    const file = `engines:\n  - url: unix:///var/run/docker.sock\n  - id: far\n    url: ${spec.url}\n    subnetPool: ${FLEET_POOL}\n    tls: { ca: ${engine.tcp!.client.ca}, cert: ${engine.tcp!.client.cert}, key: ${engine.tcp!.client.key} }\n`;
    const fleetOwner = `${owner}-f`;
    const fleet = createEngineFleetFromSpecs(parseEngines({}, file), { dataDir: path.join(dir, 'fleet'), ownerId: fleetOwner, allowUnlimited: true, log }, { memoryMiB: 512, log });
    const assets = path.join(dir, 'assets');
    fs.mkdirSync(assets, { recursive: true });
    fs.writeFileSync(path.join(assets, 'Dockerfile'), 'FROM busybox\n');
    fs.writeFileSync(path.join(assets, 'verify.sh'), 'the answer key\n');
    const sessionId = `rmf-${tag}`;
    const remote = new Docker(dockerOptions(spec, (p) => fs.readFileSync(p)) as Docker.DockerOptions);
    // A fresh engine: its session network's firewall helper needs the sandbox image, shipped first.
    await remote.getImage(builtSandboxImage()).remove({ force: true });
    try {
      fleet.drain('local');
      const network = await fleet.createSessionNetwork(sessionId);
      assert.ok(await remote.getImage(builtSandboxImage()).inspect());
      const ref = await fleet.create({ sessionId, node: 1, images: ['busybox'], network, assetsDir: assets, limits: { memoryMiB: 512, pids: 512, cpuShares: 512, diskGiB: 1 }, expiresAt: Date.now() + 600_000 });
      assert.equal(ref.engine, 'far');
      assert.equal(ref.socketDir, '', 'the remote variant: nothing on this host');
      await fleet.waitReady(ref, { timeoutMs: 60_000 });
      assert.equal((await fleet.exec(ref, ['sh', '-c', 'cat Dockerfile; ls verify.sh 2>/dev/null || echo no-answer-key'])).stdout, 'FROM busybox\nno-answer-key\n');
      const later = path.join(dir, 'later');
      fs.mkdirSync(later);
      fs.writeFileSync(path.join(later, 'later.txt'), 'copied afterwards\n');
      await fleet.copyFiles!(ref, later);
      assert.equal((await fleet.exec(ref, ['cat', 'later.txt'])).stdout, 'copied afterwards\n');
      assert.ok((await fleet.engine(ref).imageTags()).includes('busybox:latest'));
      await fleet.destroy(ref);
    } finally {
      await fleet.removeSessionNetwork(sessionId).catch(() => {});
      for (const r of await fleet.list()) await fleet.destroy(r).catch(() => {});
      await fleet.dispose();
    }
    assert.deepEqual((await remote.listContainers({ all: true, filters: { label: [`${LABELS.owner}=${fleetOwner}-far`] } })).length, 0);
    assert.deepEqual(((await remote.listVolumes({ filters: { label: [`${LABELS.owner}=${fleetOwner}-far`, `${LABELS.kind}=sandbox-volume`] } })).Volumes ?? []).length, 0);
  });
});
