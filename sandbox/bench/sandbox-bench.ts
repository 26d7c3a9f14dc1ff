// npm run bench:sandbox — how fast a sandbox is ready with its lab's images, against `docker load`.
// Prints a table, then (last line) one JSON object. Medians and nearest-rank p95; no assertions.
// Everything it creates carries a bench owner id and is removed at the end, even on failure.
import Docker from 'dockerode';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { createDockerSandboxDriver } from '../driver/docker-driver.ts';
import type { SandboxLimits, SandboxRef } from '../driver/types.ts';
import { parseArgs } from 'node:util';
import { formatBaseline, measureBaseline, relativeTo } from './baseline.ts';
import { percentile } from './stats.ts';

// --n and --images (the environment's BENCH_N and BENCH_IMAGES still work).
const { values: args } = parseArgs({ options: { n: { type: 'string' }, images: { type: 'string' } } });
const IMAGES = (args.images ?? process.env.BENCH_IMAGES ?? 'golang:1.19,busybox').split(',');
const N = Number(args.n ?? process.env.BENCH_N ?? 10);
if (!Number.isInteger(N) || N < 1) throw new Error(`--n must be a whole number ≥ 1, got ${args.n ?? process.env.BENCH_N}`);
const limits: SandboxLimits = { memoryMiB: 2048, pids: 1024, cpuShares: 512, diskGiB: 8 };

const owner = `bench-${randomBytes(3).toString('hex')}`;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-bench-'));
const docker = new Docker({ socketPath: '/var/run/docker.sock' });
// The driver's own lines (each create's phases: template, disk, network, created, started) go to stderr with a clock,
// so a slow round shows where its time went.
const benchT0 = Date.now();
const driver = createDockerSandboxDriver({ dataDir, ownerId: owner, limits, log: (m) => console.error(`[driver +${Date.now() - benchT0} ms] ${m}`) });
const expiresAt = Date.now() + 3_600_000;

const median = (xs: number[]) => percentile(xs, 50);
const p95 = (xs: number[]) => percentile(xs, 95);

async function timedSandbox(session: string, node: number, t0 = Date.now()): Promise<{ ref: SandboxRef; ms: number }> {
  const ref = await driver.create({ sessionId: session, node, images: IMAGES, limits, expiresAt });
  const created = Date.now() - t0;
  await driver.waitReady(ref, { images: IMAGES });
  console.error(`[bench +${Date.now() - benchT0} ms] ${session}: created after ${created} ms, ready after ${Date.now() - t0} ms`);
  return { ref, ms: Date.now() - t0 };
}

async function destroyAll(refs: SandboxRef[]) {
  await Promise.all(refs.map((r) => driver.destroy(r)));
}

async function main() {
  const rows: [string, string][] = [];
  const baseline = await measureBaseline();
  console.error(`[bench] ${formatBaseline(baseline)}`);
  console.error(`[bench] images: ${IMAGES.join(', ')}; warming up (builds the template once)...`);
  const warm = Date.now();
  const w = await timedSandbox(`${owner}-warm`, 1);
  rows.push(['template build + first sandbox (not counted)', `${Date.now() - warm} ms`]);
  await destroyAll([w.ref]);

  // 1. One after another, each kept running (the host fills up as in a workshop).
  const seq: number[] = [];
  const seqRefs: SandboxRef[] = [];
  for (let i = 0; i < N; i++) {
    const { ref, ms } = await timedSandbox(`${owner}-seq-${i}`, 1);
    seq.push(ms);
    seqRefs.push(ref);
    console.error(`[bench] sequential ${i + 1}/${N}: ${ms} ms`);
  }
  // Idle memory: all N idle for a moment, inner engine and shell included.
  await new Promise((r) => setTimeout(r, 5_000));
  const mem = (await Promise.all(seqRefs.map((r) => driver.status(r)))).map((s) => (s?.memoryBytes ?? 0) / 1024 / 1024);
  await destroyAll(seqRefs);

  // 2. N at once.
  const t0 = Date.now();
  const conc = await Promise.all(Array.from({ length: N }, (_, i) => timedSandbox(`${owner}-conc-${i}`, 1, t0)));
  const concMs = conc.map((c) => c.ms);
  console.error(`[bench] concurrent: ${concMs.join(', ')} ms`);
  await destroyAll(conc.map((c) => c.ref));

  // 3. Baseline: `docker save | docker load` of the same images into a fresh sandbox.
  const fresh = await driver.create({ sessionId: `${owner}-load`, node: 1, images: [], limits, expiresAt });
  let loadMs: number;
  try {
    await driver.waitReady(fresh, { images: [] });
    const inner = new Docker({ socketPath: fresh.engineSocket, timeout: 600_000 });
    const t = Date.now();
    const saved = (await (docker as unknown as { getImages(o: { names: string[] }): Promise<Readable> }).getImages({ names: IMAGES })) as Readable;
    const res = (await inner.loadImage(saved, { quiet: true })) as unknown as Readable;
    for await (const _ of res) void _;
    await driver.waitReady(fresh, { images: IMAGES });
    loadMs = Date.now() - t;
  } finally {
    await driver.destroy(fresh);
  }

  const result = {
    images: IMAGES,
    n: N,
    ready_p50_ms: Math.round(median(seq)),
    ready_p95_ms: Math.round(p95(seq)),
    concurrent10_p50_ms: Math.round(median(concMs)),
    concurrent10_p95_ms: Math.round(p95(concMs)),
    docker_load_ms: loadMs,
    speedup: Math.round((loadMs / median(seq)) * 10) / 10,
    idle_mib: Math.round(median(mem)),
  };
  const vs = relativeTo(baseline, 'docker_run_ms', { ready_p50_ms: result.ready_p50_ms, ready_p95_ms: result.ready_p95_ms, concurrent10_p50_ms: result.concurrent10_p50_ms, concurrent10_p95_ms: result.concurrent10_p95_ms, docker_load_ms: loadMs });
  rows.push(
    [`ready, ${N} one after another: p50 / p95`, `${result.ready_p50_ms} / ${result.ready_p95_ms} ms`],
    [`ready, ${N} at once: p50 / p95`, `${result.concurrent10_p50_ms} / ${result.concurrent10_p95_ms} ms`],
    ['docker save | docker load into a fresh sandbox', `${loadMs} ms`],
    ['speedup (load / ready p50)', `${result.speedup}x`],
    ['idle sandbox memory (median)', `${result.idle_mib} MiB`],
    ['ready p50 / p95, in `docker run` times', `${vs.ready_p50_ms} / ${vs.ready_p95_ms}`],
    [`${N} at once p95, in \`docker run\` times`, `${vs.concurrent10_p95_ms}`],
    ['machine baseline (same run)', formatBaseline(baseline).replace(/^machine baseline /, '')],
  );
  const w1 = Math.max(...rows.map((r) => r[0].length));
  console.log(`${'measure'.padEnd(w1)}  value`);
  console.log(`${'-'.repeat(w1)}  ${'-'.repeat(16)}`);
  for (const [k, v] of rows) console.log(`${k.padEnd(w1)}  ${v}`);
  console.log(JSON.stringify({ ...result, baseline, vs_baseline: vs }));
}

async function cleanup() {
  for (const ref of await driver.list().catch(() => [])) await driver.destroy(ref).catch(() => {});
  await driver.reap({ now: Number.MAX_SAFE_INTEGER, isLive: () => false }).catch(() => {});
  const nets = await docker.listNetworks({ filters: { label: [`io.lablab.owner=${owner}`] } });
  for (const n of nets) await docker.getNetwork(n.Id).remove().catch(() => {});
  await driver.dispose();
  fs.rmSync(dataDir, { recursive: true, force: true });
}

main()
  .catch((err) => {
    console.error('[bench] failed:', err);
    process.exitCode = 1;
  })
  .finally(cleanup);
