// npm run bench:classroom — a classroom at once. The real server, N learners (socket.io clients
// behaving like the web app, see lab-client.ts) arriving over a window and working through the
// multi-stage lab: each block typed when its prompt is back, the next step once this step's checks
// tick. Beside them an observer idles at a prompt and types a character every 200 ms; the host
// engine is pinged, the server's CPU, memory and event-loop delay are read; a latecomer arrives at
// the peak. One learner alone, in the same run, is the yardstick for the finish times.
//
//   --learners N     learners in the room (30)
//   --window S       arrivals spread over S seconds (60)
//   --pool both|on|off  rounds with the warm pool on, off, or both (both): the latecomer's figure for each
//   --noisy burner|forkbomb|disk|memory  one more learner's sandbox runs that load for the whole round;
//                    the same round is run without it first, and the others' figures compared
//
// Prints a table and, on its last line, JSON. No assertions: figures are for the README.
import Docker from 'dockerode';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, startServerProc, tempDir, type ServerProc } from '../../e2e/harness.ts';
import { cleanupOwner } from '../../e2e/cleanup.ts';
import { defaultDataDir } from '../config.ts';
import { loadLabs } from '../labs/load.ts';
import type { LabStep } from '../labs/types.ts';
import { createDockerSandboxDriver } from '../../sandbox/driver/index.ts';
import { fixed, percentile } from '../../sandbox/bench/stats.ts';
import { formatBaseline, measureBaseline, relativeTo } from '../../sandbox/bench/baseline.ts';
import { LabClient } from './lab-client.ts';
import { createPhases, summarisePhases } from './create-phases.ts';
import { bucketsSince, countAbove, quantile, readBuckets, sandboxesCpuSeconds } from './room-probes.ts';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { eventLoopDelayMs, EVENT_LOOP_SAMPLE_MS } from '../metrics/metrics.ts';
import { kernelPreempt, preemptLine } from '../../sandbox/driver/kernel-preempt.ts';
import { quickWake } from '../../sandbox/driver/quick-wake.ts';

const LAB = '03-multi-stage';
const TOKEN = 'bench-classroom';
const OBSERVER_EVERY_MS = 200;

/** What the noisy learner's sandbox runs for the whole round (as root in its own sandbox). */
export const NOISY_LOADS = {
  // Four spinning shells: more than the host has cores.
  burner: 'for i in 1 2 3 4; do (while :; do :; done) & done',
  // The classic: it runs into the sandbox's pids limit and keeps forking at it.
  forkbomb: 'bomb() { bomb | bomb & }; bomb',
  // Writes and syncs 1 GiB on its own disk, over and over.
  disk: '(while :; do dd if=/dev/zero of=/tmp/flood bs=1M count=1024 conv=fdatasync 2>/dev/null; rm -f /tmp/flood; done) &',
  // Grows to its memory limit (tail keeps a line without newlines), is OOM-killed, starts again.
  memory: '(while :; do head -c 8G /dev/zero | tail > /dev/null; done) 2>/dev/null &',
} as const;
type Noisy = keyof typeof NOISY_LOADS;

const { values: args } = parseArgs({
  options: {
    learners: { type: 'string', default: '30' },
    window: { type: 'string', default: '60' },
    pool: { type: 'string', default: 'both' },
    noisy: { type: 'string' },
  },
});
const LEARNERS = Number(args.learners);
const WINDOW_MS = Number(args.window) * 1000;
if (!Number.isInteger(LEARNERS) || LEARNERS < 1) throw new Error(`--learners must be a whole number ≥ 1, got ${args.learners}`);
if (!(WINDOW_MS >= 0)) throw new Error(`--window must be a number of seconds ≥ 0, got ${args.window}`);
if (args.noisy !== undefined && !(args.noisy in NOISY_LOADS)) throw new Error(`--noisy must be one of ${Object.keys(NOISY_LOADS).join(', ')}, got ${args.noisy}`);
if (!['both', 'on', 'off'].includes(args.pool!)) throw new Error(`--pool must be both, on or off, got ${args.pool}`);
const NOISY = args.noisy as Noisy | undefined;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const stepsWithWork = (steps: LabStep[]) => steps.filter((s) => s.blocks.length > 0 || s.checks.length > 0);

interface LearnerResult {
  finishMs: number;
  /** Prompt back after a step's last block → that step's checks all ticked. */
  tickMs: number[];
  /** Each block's time from click to prompt, by the block's first line. */
  blockMs: Record<string, number>;
  allPassed: boolean;
}

/** One learner through the whole lab: arrive, each step's blocks, each step's ticks. */
async function learner(server: ServerProc, steps: LabStep[]): Promise<LearnerResult> {
  const t0 = performance.now();
  const c = await LabClient.open(server.url, LAB);
  const tickMs: number[] = [];
  const blockMs: Record<string, number> = {};
  try {
    for (const step of stepsWithWork(steps)) {
      for (const b of step.blocks) blockMs[b.code.split('\n')[0]!.slice(0, 40)] = await c.click(step.id, b.code);
      if (step.checks.length === 0) continue;
      const back = performance.now();
      await c.stepPassed(step.id);
      tickMs.push(performance.now() - back);
    }
    return { finishMs: performance.now() - t0, tickMs, blockMs, allPassed: c.allPassed() };
  } finally {
    await c.leave();
  }
}

/** The idle learner: one character every 200 ms, each timed until its echo; Ctrl-U now and then. */
function observer(c: LabClient): { stop(): Promise<number[]> } {
  const echo: number[] = [];
  let stopped = false;
  const loop = (async () => {
    for (let i = 0; !stopped; i++) {
      const slot = performance.now();
      if (i % 40 === 39) c.type('\x15'); // clear the typed line; not timed
      else {
        const ch = String.fromCharCode(97 + (i % 26));
        const m = c.mark();
        const t = performance.now();
        c.type(ch);
        // An echo that never comes is counted at the 30 s it was waited for, not dropped; a session
        // that ended stops the observer with its error.
        const err = await c.waitFor('observer echo', () => c.outputSince(m).includes(ch), 30_000).then(() => undefined, (e: Error) => e);
        if (err && !/not in 30 s/.test(err.message)) throw err;
        echo.push(performance.now() - t);
      }
      await sleep(Math.max(0, OBSERVER_EVERY_MS - (performance.now() - slot)));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return echo;
    },
  };
}

/** Samples the host engine's latency, the server process and the host's memory while the room works. */
function samplers(serverPid: number) {
  const docker = new Docker({ socketPath: '/var/run/docker.sock' });
  const ping: number[] = [];
  let rssMax = 0, memUsedMax = 0, cpuPeak = 0;
  const cpuStart = cpuMs(serverPid);
  const hostStart = hostCpuTicks();
  const tStart = performance.now();
  let lastCpu = cpuStart, lastT = tStart;
  let stopped = false;
  const pinger = (async () => {
    while (!stopped) {
      const t = performance.now();
      await docker.version();
      ping.push(performance.now() - t);
      await sleep(500);
    }
  })();
  const proc = setInterval(() => {
    rssMax = Math.max(rssMax, rssMiB(serverPid));
    memUsedMax = Math.max(memUsedMax, hostMemUsedMiB());
    const now = performance.now(), cpu = cpuMs(serverPid);
    if (now - lastT >= 5_000) {
      cpuPeak = Math.max(cpuPeak, ((cpu - lastCpu) / (now - lastT)) * 100);
      lastCpu = cpu;
      lastT = now;
    }
  }, 1000);
  return {
    async stop() {
      stopped = true;
      clearInterval(proc);
      await pinger;
      const host = hostCpuTicks().map((v, i) => v - hostStart[i]!);
      const all = host.reduce((a, b) => a + b, 0) || 1;
      const pct = (i: number) => fixed((host[i]! / all) * 100);
      return {
        // Where the host's CPU time went during the room (/proc/stat): idle or iowait left means the room was not CPU-bound.
        host_cpu_pct: `user ${pct(0)}, nice ${pct(1)}, system ${pct(2)}, idle ${pct(3)}, iowait ${pct(4)}, irq+softirq ${fixed(((host[5]! + host[6]!) / all) * 100)}`,
        engine_ping_p50_ms: fixed(percentile(ping, 50), 1),
        engine_ping_p99_ms: fixed(percentile(ping, 99), 1),
        server_cpu_avg_pct: fixed(((cpuMs(serverPid) - cpuStart) / (performance.now() - tStart)) * 100),
        server_cpu_peak_pct: fixed(cpuPeak),
        server_rss_peak_mib: fixed(rssMax),
        host_mem_used_peak_mib: fixed(memUsedMax),
      };
    },
  };
}

/** The host's CPU time so far: user, nice, system, idle, iowait, irq, softirq (clock ticks). */
function hostCpuTicks(): number[] {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  return line.trim().split(/\s+/).slice(1, 8).map(Number);
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}
function cpuMs(pid: number): number {
  const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10; // clock ticks of 10 ms
}
function hostMemUsedMiB(): number {
  const info = fs.readFileSync('/proc/meminfo', 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(info)?.[1] ?? NaN);
  return (kb('MemTotal') - kb('MemAvailable')) / 1024;
}

const metricsText = async (server: ServerProc) => (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
const ECHO_METRIC = 'lablab_terminal_echo_seconds';

/** The server's event-loop readings, p99 and max (ms), since the last read (prom-client resets its histogram at each scrape). These are times between 10 ms samples: eventLoopDelayMs takes the interval off. */
async function eventLoop(server: ServerProc): Promise<{ p99: number; max: number }> {
  const text = await metricsText(server);
  const read = (name: string) => Number(new RegExp(`^lablab_process_nodejs_eventloop_lag_${name}_seconds (\\S+)$`, 'm').exec(text)?.[1] ?? NaN) * 1000;
  return { p99: read('p99'), max: read('max') };
}

async function waitPool(server: ServerProc, n: number): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < 15 * 60_000) {
    const text = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    if (Number(/^lablab_pool_size (\S+)$/m.exec(text)?.[1] ?? 0) >= n) return Date.now() - t0;
    await sleep(500);
  }
  throw new Error(`the pool did not reach ${n} in 15 min`);
}

/** Waits until the round's sandboxes are gone, so its teardown does not slow the next round. */
async function waitIdle(dataDir: string, ownerId: string): Promise<void> {
  const driver = createDockerSandboxDriver({ dataDir, ownerId, log: () => {} });
  try {
    for (let i = 0; i < 240 && (await driver.list()).length > 0; i++) await sleep(500);
  } finally {
    await driver.dispose();
  }
}

/** A learner the bench needs (observer, noisy one): three tries, since a sandbox can time out on a loaded host. */
async function openWithTries(server: ServerProc, who: string): Promise<LabClient> {
  for (let i = 1; ; i++) {
    try {
      return await LabClient.open(server.url, LAB);
    } catch (err) {
      console.log(`[${who}] try ${i} failed: ${(err as Error).message}`);
      if (i === 3) throw err;
    }
  }
}

type Figures = Record<string, number | null | string>;

/** One round: a server, the yardstick learner alone, then the room with observer, latecomer and (maybe) the noisy one. */
async function round(o: { labsDir: string; dataDir: string; ownerId: string; steps: LabStep[]; pool: boolean; noisy?: Noisy }): Promise<Figures> {
  const label = `pool ${o.pool ? 'on' : 'off'}${o.noisy ? `, noisy ${o.noisy}` : ''}`;
  // The room, the yardstick, the observer, the latecomer, the noisy one.
  const poolSize = o.pool ? LEARNERS + 4 : 0;
  const server = await startServerProc({
    labsDir: o.labsDir, dataDir: o.dataDir, ownerId: o.ownerId,
    // Its own session, as a real server has: the harness's work (the learners' browsers) is not its.
    ownSession: true,
    env: {
      HOST_TOKEN: TOKEN, POOL_SIZE: String(poolSize), MAX_SANDBOXES: String(LEARNERS * 2 + 10),
      DB_FILE: path.join(tempDir('bench-classroom-db'), 'db.sqlite'),
      // Every simulated learner comes from 127.0.0.1, as a room behind one NAT does (see bench:workshop).
      MAX_SESSIONS_PER_ADDRESS: String(LEARNERS * 4), RATE_SESSIONS_PER_MIN: String(LEARNERS * 4),
    },
  });
  const out: Figures = { round: label };
  const clients: LabClient[] = [];
  try {
    if (o.pool) out.pool_fill_ms = await waitPool(server, poolSize);
    else await sleep(3_000); // network stock and template check at start
    await sleep(2_000);

    // On a loaded host a sandbox can fail to come up in time: the yardstick gets three tries, each reported.
    // What the pool's idle sandboxes burn on their own, so that the learner's own CPU can be told apart.
    const idle0 = sandboxesCpuSeconds(), idleT0 = performance.now();
    await sleep(5_000);
    const idleRate = idle0 === undefined ? undefined : (sandboxesCpuSeconds()! - idle0) / ((performance.now() - idleT0) / 1000);
    const cpu0 = sandboxesCpuSeconds();
    let solo: LearnerResult | undefined;
    for (let i = 1; !solo; i++) {
      try {
        solo = await learner(server, o.steps);
      } catch (err) {
        console.log(`[${label}] one learner alone, try ${i} failed: ${(err as Error).message}`);
        if (i === 3) throw err;
      }
    }
    out.solo_ms = fixed(solo.finishMs);
    if (cpu0 !== undefined && idleRate !== undefined) {
      // The lab's price: CPU seconds its sandbox used (the try that finished), above what idle sandboxes use.
      const soloCpu = sandboxesCpuSeconds()! - cpu0 - idleRate * (solo.finishMs / 1000);
      // The idle rate is read over 5 s right after the pool filled; when the pool was still settling it is too
      // high and the learner's share comes out near or below zero: then there is no figure rather than a wrong one.
      if (soloCpu >= 1) {
        out.solo_cpu_s = fixed(soloCpu, 1);
        // The best finish p95 ÷ alone these cores allow, if the room's CPU were shared perfectly and nothing else ran.
        out.cpu_floor_ratio = fixed(Math.max(1, (LEARNERS * soloCpu) / os.cpus().length / (solo.finishMs / 1000)), 2);
      } else console.log(`[${label}] the lab's CPU price is not measurable in this round (idle sandboxes still settling: ${fixed(soloCpu, 1)} core-s)`);
    }
    console.log(`[${label}] one learner alone: ${out.solo_ms} ms (all checks ${solo.allPassed ? 'passed' : 'NOT passed'})`);

    let noisy: LabClient | undefined;
    if (o.noisy) {
      noisy = await openWithTries(server, `${label}, noisy learner`);
      clients.push(noisy);
      noisy.type(`${NOISY_LOADS[o.noisy]}\r`);
      await sleep(3_000);
    }
    const obsClient = await openWithTries(server, `${label}, observer`);
    clients.push(obsClient);
    await sleep(1_000);

    const logBefore = server.output().length;
    await eventLoop(server); // resets the server's histogram: what follows is the room's
    const echoBefore = readBuckets(await metricsText(server), ECHO_METRIC);
    const roomCpu0 = sandboxesCpuSeconds();
    // This process's own event loop: if the bench itself stalls, its echo figures are not the server's.
    const benchLoop = monitorEventLoopDelay({ resolution: EVENT_LOOP_SAMPLE_MS });
    benchLoop.enable();
    const sample = samplers(server.proc.pid!);
    const obs = observer(obsClient);
    const failures: string[] = [];
    const room = Promise.allSettled(Array.from({ length: LEARNERS }, async (_, i) => {
      await sleep((i * WINDOW_MS) / LEARNERS);
      return learner(server, o.steps);
    }));
    // The latecomer comes when everyone has arrived and most are building.
    await sleep(WINDOW_MS + 5_000);
    let latecomerMs: number | null = null;
    try {
      const t = performance.now();
      const late = await LabClient.open(server.url, LAB);
      latecomerMs = fixed(performance.now() - t);
      await late.leave();
    } catch (err) {
      failures.push(`latecomer: ${(err as Error).message}`);
    }
    const settled = await room;
    const echo = await obs.stop();
    const loop = await eventLoop(server);
    const sampled = await sample.stop();
    benchLoop.disable();
    const serverEcho = bucketsSince(echoBefore, readBuckets(await metricsText(server), ECHO_METRIC));
    const roomCpu = roomCpu0 === undefined ? undefined : sandboxesCpuSeconds()! - roomCpu0;
    const done = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    for (const r of settled) if (r.status === 'rejected') failures.push(String((r.reason as Error).message ?? r.reason));
    for (const f of failures.slice(0, 5)) console.log(`[${label}] failed: ${f}`);
    const finish = done.map((d) => d.finishMs);
    // Where a learner's time went: each block's click → prompt, p50 over the room, beside the learner alone.
    for (const k of Object.keys(solo.blockMs)) {
      const room = done.map((d) => d.blockMs[k]).filter((v): v is number => v !== undefined);
      console.log(`[${label}] block ${JSON.stringify(k)}: alone ${fixed(solo.blockMs[k]!)} ms, room p50 ${fixed(percentile(room, 50))} / p95 ${fixed(percentile(room, 95))} ms`);
    }
    const ticks = done.flatMap((d) => d.tickMs);
    Object.assign(out, {
      learners: LEARNERS,
      finished_all_checks: done.filter((d) => d.allPassed).length,
      failed: failures.length,
      finish_p50_ms: fixed(percentile(finish, 50)),
      finish_p95_ms: fixed(percentile(finish, 95)),
      finish_p95_ratio: fixed(percentile(finish, 95) / solo.finishMs, 2),
      check_tick_p50_ms: fixed(percentile(ticks, 50)),
      check_tick_p95_ms: fixed(percentile(ticks, 95)),
      observer_echo_p50_ms: fixed(percentile(echo, 50), 1),
      observer_echo_p99_ms: fixed(percentile(echo, 99), 1),
      observer_echo_max_ms: fixed(Math.max(...echo), 1),
      // Node's histogram records the time between samples (every EVENT_LOOP_SAMPLE_MS): the delay is that less the interval.
      event_loop_p99_ms: fixed(eventLoopDelayMs(loop.p99), 1),
      event_loop_max_ms: fixed(eventLoopDelayMs(loop.max), 1),
      event_loop_sample_p99_ms: fixed(loop.p99, 1),
      latecomer_prompt_ms: latecomerMs,
      // Keystroke → first output, measured at the server (every terminal: the observer's keys and the learners' Enter).
      server_echo_p50_ms: fixed((quantile(serverEcho, 0.5) ?? NaN) * 1000, 1),
      server_echo_p99_ms: fixed((quantile(serverEcho, 0.99) ?? NaN) * 1000, 1),
      server_echoes_over_50ms: `${countAbove(serverEcho, 0.05).above} of ${countAbove(serverEcho, 0.05).total}`,
      bench_event_loop_p99_ms: fixed(eventLoopDelayMs(benchLoop.percentile(99) / 1e6), 1),
      bench_event_loop_max_ms: fixed(eventLoopDelayMs(benchLoop.max / 1e6), 1),
      room_sandbox_cpu_s: roomCpu === undefined ? null : fixed(roomCpu, 1),
      ...sampled,
    });
    // Where the creates during the room (cold creates, pool refills) spent their time, per phase.
    const creates = createPhases(server.output().slice(logBefore));
    out.creates_during_room = creates.length;
    if (creates.length) out.create_phases_ms = JSON.stringify(summarisePhases(creates));
    const fills = createPhases(server.output().slice(0, logBefore));
    if (fills.length) out.creates_before_room_phases_ms = JSON.stringify(summarisePhases(fills));
    console.log(`[${label}] ${JSON.stringify(out)}`);
    return out;
  } finally {
    await Promise.all(clients.map((c) => c.leave().catch(() => {})));
    await server.stop();
    await waitIdle(o.dataDir, o.ownerId);
    await cleanupOwner(o.dataDir, o.ownerId);
  }
}

async function main(): Promise<void> {
  const quiet = fixed(os.loadavg()[0]!, 2);
  const preempt = kernelPreempt();
  console.log(preemptLine(preempt));
  // The harness stands in for browsers on other machines: its own wake-ups on this saturated host are
  // not a learner's, so it gets the slice the server and the shells have (QUICK_WAKE=0: not).
  if (process.env.QUICK_WAKE !== '0') console.log(await quickWake(process.pid, 'the bench (the learners\' browsers)'));
  const baseline = await measureBaseline();
  console.log(formatBaseline(baseline));
  const labsDir = tempDir('bench-classroom-labs');
  fs.cpSync(path.join(ROOT, 'labs', LAB), path.join(labsDir, LAB), { recursive: true });
  const { labs } = await loadLabs(labsDir);
  const steps = labs.find((l) => l.id === LAB)!.steps;
  const dataDir = defaultDataDir(ROOT);
  const ownerId = `bench-class-${process.pid}`;
  const common = { labsDir, dataDir, ownerId, steps };

  const rounds: Figures[] = [];
  try {
    if (NOISY) {
      rounds.push(await round({ ...common, pool: true }));
      rounds.push(await round({ ...common, pool: true, noisy: NOISY }));
    } else {
      if (args.pool !== 'off') rounds.push(await round({ ...common, pool: true }));
      if (args.pool !== 'on') rounds.push(await round({ ...common, pool: false }));
    }
  } finally {
    await cleanupOwner(dataDir, ownerId);
  }
  const main = rounds[0]!;
  const on = rounds.find((r) => r.round === 'pool on');
  const off = rounds.find((r) => r.round === 'pool off');
  const result: Record<string, unknown> = {
    ...main,
    round: undefined,
    latecomer_prompt_ms: { pool_on: on?.latecomer_prompt_ms ?? null, pool_off: off?.latecomer_prompt_ms ?? null },
    quiet,
    window_s: WINDOW_MS / 1000,
    // Figures that travel: how this host's kernel preempts decides the echo's tail.
    kernel_preempt: `${preempt.mode} (${preempt.source})`,
    baseline,
  };
  if (off && off !== main) result.pool_off = { ...off, round: undefined };
  if (NOISY) {
    const n = rounds[1]!;
    result.noisy = {
      load: NOISY,
      ...n,
      round: undefined,
      echo_p99_vs_quiet: fixed((n.observer_echo_p99_ms as number) / (main.observer_echo_p99_ms as number), 2),
      finish_p50_vs_quiet: fixed((n.finish_p50_ms as number) / (main.finish_p50_ms as number), 2),
      finish_p95_vs_quiet: fixed((n.finish_p95_ms as number) / (main.finish_p95_ms as number), 2),
    };
  }
  result.vs_baseline = relativeTo(baseline, 'docker_run_ms', { solo_ms: main.solo_ms, finish_p95_ms: main.finish_p95_ms, latecomer_pool_off_ms: off?.latecomer_prompt_ms ?? null, latecomer_pool_on_ms: on?.latecomer_prompt_ms ?? null });

  const row = (k: string, v: unknown, target = '') => console.log(`${k.padEnd(36)} ${String(v).padEnd(14)} ${target}`);
  console.log(`\nclassroom: ${LEARNERS} learners over ${WINDOW_MS / 1000} s, lab ${LAB}; load average before: ${quiet}${quiet! > 0.5 ? ' (the machine was NOT quiet)' : ''}`);
  row('finished with every check passing', `${main.finished_all_checks} of ${LEARNERS}`, `(target: all)`);
  row('one learner alone', `${main.solo_ms} ms`);
  row('finish p50 / p95', `${main.finish_p50_ms} / ${main.finish_p95_ms} ms`);
  row('finish p95 ÷ alone', main.finish_p95_ratio, '(target ≤ 3)');
  row('one learner\'s lab in CPU; floor ratio', `${main.solo_cpu_s ?? '-'} core-s; ${main.cpu_floor_ratio ?? '-'}`, '(the best p95 ÷ alone these cores allow)');
  row('check tick p50 / p95', `${main.check_tick_p50_ms} / ${main.check_tick_p95_ms} ms`, '(target p95 ≤ 1000 ms)');
  row('observer echo p50 / p99 / max', `${main.observer_echo_p50_ms} / ${main.observer_echo_p99_ms} / ${main.observer_echo_max_ms} ms`, '(target p99 ≤ 50 ms)');
  row('server-side echo p50 / p99; over 50 ms', `${main.server_echo_p50_ms} / ${main.server_echo_p99_ms} ms; ${main.server_echoes_over_50ms}`);
  row('bench process event-loop p99 / max', `${main.bench_event_loop_p99_ms} / ${main.bench_event_loop_max_ms} ms`, '(the harness itself)');
  row('engine ping p99', `${main.engine_ping_p99_ms} ms`, '(target ≤ 200 ms)');
  row('server event-loop delay p99', `${main.event_loop_p99_ms} ms`, `(target ≤ 20 ms; reading ${main.event_loop_sample_p99_ms} ms less the ${EVENT_LOOP_SAMPLE_MS} ms sample interval)`);
  row('latecomer prompt, pool on / off', `${on?.latecomer_prompt_ms ?? '-'} / ${off?.latecomer_prompt_ms ?? '-'} ms`, '(target pool on ≤ 1000 ms)');
  row('host CPU during the room', main.host_cpu_pct);
  row('server CPU avg / peak 5 s', `${main.server_cpu_avg_pct} / ${main.server_cpu_peak_pct} %`);
  row('server RSS peak; host memory used peak', `${main.server_rss_peak_mib} MiB; ${main.host_mem_used_peak_mib} MiB`);
  if (NOISY) {
    const n = result.noisy as Record<string, unknown>;
    row(`noisy ${NOISY}: others' echo p99 vs quiet`, n.echo_p99_vs_quiet, '(target ≤ 2)');
    row(`noisy ${NOISY}: finish p50 / p95 vs quiet`, `${n.finish_p50_vs_quiet} / ${n.finish_p95_vs_quiet}`, '(target ≤ 1.3)');
  }
  console.log(formatBaseline(baseline));
  console.log(JSON.stringify(result));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
