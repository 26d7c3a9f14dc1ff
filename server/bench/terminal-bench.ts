// npm run bench:terminal — keystroke echo latency, output throughput with browser-like acks,
// server memory growth under a flood, and Ctrl-C latency, all against a real sandbox, once per
// terminal transport (TERMINAL_TRANSPORT=local: the server on the dtach socket; pty: the host dtach client
// under node-pty on that socket; exec: engine API).
// Prints a table and, on its last line, JSON with a key per transport. No assertions: figures are for the README.
import fs from 'node:fs';
import path from 'node:path';
import { io, type Socket } from 'socket.io-client';
import type { ClientToServer, ServerToClient, SessionView } from '../protocol/realtime.ts';
import { startServerProc, tempDir } from '../../e2e/harness.ts';
import { cleanupOwner } from '../../e2e/cleanup.ts';
import { createDockerSandboxDriver } from '../../sandbox/driver/index.ts';
import { attachDtachSocket } from '../terminals/dtach-socket.ts';
import { spawnDtachAttach } from '../terminals/dtach-pty.ts';
import { spawnExecAttach } from '../terminals/exec-attach.ts';
import type { PtyProcess } from '../terminals/terminal.ts';
import { parseArgs } from 'node:util';
import { percentile } from '../../sandbox/bench/stats.ts';
import { formatBaseline, measureBaseline, relativeTo, type Baseline } from '../../sandbox/bench/baseline.ts';

const FLOOD_BYTES = 50_000_000;
const ECHO_SAMPLES = 200;
const FLOODS = 3;

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** CPU time (user + system, ms) a process has used so far; 0 once it is gone. */
function cpuMs(pid: number): number {
  try {
    const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10; // clock ticks of 10 ms
  } catch {
    return 0;
  }
}

function procs(): { pid: number; ppid: number; args: string }[] {
  const out: { pid: number; ppid: number; args: string }[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]);
      out.push({ pid: Number(d), ppid, args: fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ') });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/**
 * The processes that carry terminal output besides the sandbox's own: the server; the attach client
 * (our dtach in the sandbox's exec; the host's dtach under node-pty on the pty path; on the local path the server
 * itself is the client); and the engine (dockerd,
 * its containerd, the sandbox's shim), which the exec path passes every byte through.
 */
function carriers(serverPid: number, containerId: string): Record<'server' | 'client' | 'engine', number[]> {
  const all = procs();
  const dockerd = Number(fs.readFileSync('/var/run/docker.pid', 'utf8').trim());
  return {
    server: [serverPid],
    client: all.filter((p) => (p.ppid === serverPid && p.args.startsWith('dtach ')) || p.args.startsWith('lablab-attach-')).map((p) => p.pid),
    engine: [dockerd, ...all.filter((p) => (p.ppid === dockerd && p.args.startsWith('containerd ')) || p.args.includes(`-id ${containerId} `)).map((p) => p.pid)],
  };
}

const pct = percentile;

type Transport = 'local' | 'pty' | 'exec';
/** `npm run bench:terminal -- exec` measures one transport only. */
const { positionals } = parseArgs({ allowPositionals: true, options: {} });
for (const t of positionals) if (t !== 'local' && t !== 'pty' && t !== 'exec') throw new Error(`unknown transport "${t}" (local, pty or exec)`);
const TRANSPORTS: Transport[] = positionals.length ? (positionals as Transport[]) : ['local', 'pty', 'exec'];

async function main(): Promise<void> {
  const baseline: Baseline = await measureBaseline();
  console.log(formatBaseline(baseline));
  const results: Record<string, unknown> = {};
  for (const t of TRANSPORTS) results[t] = await benchOne(t);
  const attach = await benchAttach();
  for (const t of TRANSPORTS) {
    const r: Record<string, unknown> = { ...(results[t] as Record<string, unknown>), attach_p50_ms: attach[t].p50, attach_max_ms: attach[t].max };
    // Terminal figures are CPU work: in CPU-loop times (throughput: MB per CPU loop).
    results[t] = { ...r, vs_baseline: relativeTo(baseline, 'cpu_loop_ms', { echo_p50_ms: r.echo_p50_ms, echo_p99_ms: r.echo_p99_ms, throughput_mb_s: r.throughput_mb_s, ctrl_c_ms: r.ctrl_c_ms, attach_p50_ms: r.attach_p50_ms }, ['throughput_mb_s']) };
  }
  console.log(`\nattach (spawn → the attach is through), ${ATTACH_SAMPLES} each: ${TRANSPORTS.map((t) => `${t} p50 ${attach[t].p50} ms, max ${attach[t].max} ms`).join('; ')}`);
  for (const t of TRANSPORTS) console.log(`${t}, in CPU-loop times: ${JSON.stringify((results[t] as { vs_baseline: unknown }).vs_baseline)}`);
  console.log(formatBaseline(baseline));
  console.log(JSON.stringify({ ...results, baseline }));
}

const ATTACH_SAMPLES = 10;

/**
 * How long each transport takes to attach to a running shell (what a server restart or an ended
 * attach costs), in a sandbox of its own: an exec attach ends any other attach in its sandbox.
 */
async function benchAttach(): Promise<Record<Transport, { p50: number; max: number }>> {
  const dataDir = tempDir('bench-attach');
  const ownerId = `bench-${process.pid}-attach`;
  const driver = createDockerSandboxDriver({ dataDir, ownerId, log: () => {} });
  try {
    const network = await driver.createSessionNetwork(ownerId);
    const ref = await driver.create({ sessionId: ownerId, node: 1, images: [], network, limits: { memoryMiB: 512, pids: 256, cpuShares: 512, diskGiB: 1 }, expiresAt: Date.now() + 600_000 });
    await driver.waitReady(ref, { images: [] });
    await driver.ensureShell(ref);
    const spawners: Record<Transport, () => PtyProcess> = {
      local: () => attachDtachSocket(ref.terminalSocket, 100, 30),
      pty: () => spawnDtachAttach(ref.terminalSocket, 100, 30),
      exec: () => spawnExecAttach({ open: (c, r) => driver.attachShell(ref, c, r) }, 100, 30),
    };
    const out = {} as Record<Transport, { p50: number; max: number }>;
    for (const t of TRANSPORTS) {
      const ms: number[] = [];
      for (let i = 0; i < ATTACH_SAMPLES; i++) {
        const t0 = performance.now();
        const p = spawners[t]();
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`${t} attach gave nothing in 10 s`)), 10_000);
          p.onData(() => {
            clearTimeout(timer);
            resolve();
          });
        });
        ms.push(performance.now() - t0);
        p.kill();
        await new Promise((r) => setTimeout(r, 100));
      }
      out[t] = { p50: +pct(ms, 50).toFixed(1), max: +Math.max(...ms).toFixed(1) };
    }
    return out;
  } finally {
    await driver.dispose();
    await cleanupOwner(dataDir, ownerId);
  }
}

async function benchOne(transport: Transport): Promise<Record<string, unknown>> {
  const labsDir = tempDir('bench-labs');
  fs.writeFileSync(path.join(labsDir, 'bench.md'), '---\ntitle: Terminal bench\nterms: 1\n---\n## Shell\n\n```.term1\necho hi\n```\n');
  const dataDir = tempDir('bench-data');
  const ownerId = `bench-${process.pid}-${transport}`;
  const server = await startServerProc({ labsDir, dataDir, ownerId, env: { TERMINAL_TRANSPORT: transport } });
  const pid = server.proc.pid!;
  let socket: Socket<ServerToClient, ClientToServer> | undefined;
  try {
    const res = await fetch(server.url + '/');
    const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
    socket = io(server.url, { transports: ['websocket'], extraHeaders: { cookie, origin: server.url } });
    const s = socket;

    let received = '';
    let onData: ((d: string) => void) | null = null;
    let unacked = 0;
    s.on('term:data', ({ data }) => {
      unacked += data.length;
      // A browser acks after rendering; acking on the next turn of the loop is the fast-browser case.
      if (unacked >= 5000) {
        const n = unacked;
        unacked = 0;
        setImmediate(() => s.emit('term:ack', { term: 1, chars: n }));
      }
      onData?.(data);
    });
    const ready = new Promise<void>((resolve) => s.on('term:state', ({ state }) => state === 'ready' && resolve()));
    const t0 = performance.now();
    const joined = await new Promise<SessionView>((resolve, reject) =>
      s.emit('session:join', { labId: 'bench' }, (r) => (r.ok ? resolve(r.value.session) : reject(new Error(r.error.message)))),
    );
    if (joined.phase !== 'ready') await new Promise<void>((r) => s.on('session:update', (v) => v.phase === 'ready' && r()));
    await ready;
    const readyMs = performance.now() - t0;
    s.emit('term:resize', { term: 1, cols: 120, rows: 40 });

    const waitFor = (pred: (all: string) => boolean, timeoutMs: number) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out; last output: ${JSON.stringify(received.slice(-300))}`)), timeoutMs);
        onData = (d) => {
          received += d;
          if (received.length > 1_000_000) received = received.slice(-100_000);
          if (pred(received)) {
            clearTimeout(timer);
            onData = null;
            resolve();
          }
        };
      });
    const run = async (cmd: string, marker: string, timeoutMs = 120_000) => {
      received = '';
      const p = waitFor((all) => all.includes(marker), timeoutMs);
      s.emit('term:input', { term: 1, data: cmd + '\r' });
      await p;
    };

    await run('stty -ixon; echo READY_$((1+1))', 'READY_2');

    // 1. echo latency: one keystroke at a time at the prompt.
    const echo: number[] = [];
    for (let i = 0; i < ECHO_SAMPLES; i++) {
      const ch = String.fromCharCode(97 + (i % 26));
      received = '';
      const p = waitFor((all) => all.includes(ch), 5000);
      const t = performance.now();
      s.emit('term:input', { term: 1, data: ch });
      await p;
      echo.push(performance.now() - t);
      if (i % 50 === 49) await run('\x15echo CLR_$((2+2))', 'CLR_4'); // Ctrl-U clears the typed line
    }
    await run('\x15echo CLR_$((3+3))', 'CLR_6');

    // 2. throughput and server memory while 50 MB floods stream through; the median of FLOODS
    // runs is reported, so one noisy run on a shared machine does not decide.
    const rssBefore = rssMiB(pid);
    let rssMax = rssBefore;
    const sampler = setInterval(() => (rssMax = Math.max(rssMax, rssMiB(pid))), 100);
    const floods: number[] = [];
    let bytes = 0;
    let floodMb = 0;
    const lister = createDockerSandboxDriver({ dataDir, ownerId, log: () => {} });
    const [ref] = await lister.list();
    await lister.dispose();
    const who = carriers(pid, ref!.containerId);
    const cpuOf = () => Object.fromEntries(Object.entries(who).map(([k, pids]) => [k, pids.reduce((n, p) => n + cpuMs(p), 0)])) as Record<keyof typeof who, number>;
    const cpuBefore = cpuOf();
    for (let f = 0; f < FLOODS; f++) {
      await run(`clear; echo F_$((${f}+100))`, `F_${f + 100}`);
      bytes = 0;
      const tFlood = performance.now();
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('flood did not finish in 180 s')), 180_000);
        let tail = '';
        onData = (d) => {
          bytes += d.length;
          tail = (tail + d).slice(-64);
          if (tail.includes('FLOOD_DONE_9')) {
            clearTimeout(timer);
            onData = null;
            resolve();
          }
        };
        s.emit('term:input', { term: 1, data: `yes "$(printf '%098d' 7)" | head -c ${FLOOD_BYTES}; echo FLOOD_DONE_$((4+5))\r` });
      });
      floods.push(bytes / 1e6 / ((performance.now() - tFlood) / 1000));
      floodMb += bytes / 1e6;
    }
    clearInterval(sampler);
    const cpuAfter = cpuOf();
    const perMb = (k: keyof typeof who) => +((cpuAfter[k] - cpuBefore[k]) / floodMb).toFixed(2);
    const throughput = pct(floods, 50);

    // 3. Ctrl-C while `yes` floods the terminal.
    await run('clear; echo C_$((5+5))', 'C_10');
    received = '';
    const flowing = waitFor((all) => all.length > 200_000, 30_000);
    s.emit('term:input', { term: 1, data: 'yes\r' });
    await flowing;
    let sinceCtrlC = '';
    const tC = performance.now();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('prompt did not return within 20 s of Ctrl-C')), 20_000);
      onData = (d) => {
        sinceCtrlC = (sinceCtrlC + d).slice(-200);
        if (/\^C[\s\S]*[$#] $/.test(sinceCtrlC)) {
          clearTimeout(timer);
          onData = null;
          resolve();
        }
      };
      s.emit('term:input', { term: 1, data: '\x03' });
    });
    const ctrlCMs = performance.now() - tC;

    const result = {
      sandbox_ready_ms: Math.round(readyMs),
      echo_p50_ms: +pct(echo, 50).toFixed(2),
      echo_p99_ms: +pct(echo, 99).toFixed(2),
      throughput_mb_s: +throughput.toFixed(1),
      throughput_runs_mb_s: floods.map((x) => +x.toFixed(1)),
      flood_mb: +(bytes / 1e6).toFixed(1),
      server_rss_before_mib: +rssBefore.toFixed(1),
      server_rss_growth_mib: +(rssMax - rssBefore).toFixed(1),
      cpu_ms_per_mb_server: perMb('server'),
      cpu_ms_per_mb_attach_client: perMb('client'),
      cpu_ms_per_mb_engine: perMb('engine'),
      ctrl_c_ms: Math.round(ctrlCMs),
    };
    console.log(`\nterminal benchmark, ${transport} transport (real sandbox, socket.io over loopback)`);
    for (const [k, v] of Object.entries(result)) console.log(`  ${k.padEnd(24)} ${v}`);
    await new Promise<void>((r) => s.emit('session:end', {}, () => r()));
    return result;
  } finally {
    socket?.close();
    await server.stop();
    await cleanupOwner(dataDir, ownerId);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
