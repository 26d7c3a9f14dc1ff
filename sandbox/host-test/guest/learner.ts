// Runs inside the host-test VM, beside `npm start`: a learner through the real server (cookie,
// socket.io, session:join) to a ready sandbox and its prompt; then, from the host side of that
// sandbox, the limits its cgroups carry, a fork bomb and a memory hog run as the learner, and
// whether the sandbox and its engine survive them. Writes what it measured as JSON (--out).
//   node --import tsx sandbox/host-test/guest/learner.ts --url http://127.0.0.1:8080 --lab 01-normal-build --out FILE
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { io, type Socket } from 'socket.io-client';
import type { ClientToServer, ServerToClient, SessionView } from '../../../server/protocol/realtime.ts';

const { values: opt } = parseArgs({
  options: { url: { type: 'string' }, lab: { type: 'string' }, out: { type: 'string' }, 'timeout-ms': { type: 'string' } },
});
const URL = opt.url ?? 'http://127.0.0.1:8080';
const LAB = opt.lab ?? '01-normal-build';
const OUT = opt.out ?? '/dev/stdout';
const READY_TIMEOUT_MS = Number(opt['timeout-ms'] ?? 25 * 60_000);
const PROMPT = '[node1] /root $';
const CG = '/sys/fs/cgroup';

const report: Record<string, unknown> = { lab: LAB, url: URL };
const t0 = Date.now();
const since = () => Math.round((Date.now() - t0) / 1000);
const note = (m: string) => console.log(`[learner +${since()}s] ${m}`);
const save = () => fs.writeFileSync(OUT, JSON.stringify(report, null, 2) + '\n');

function sh(cmd: string, args: string[], timeoutMs = 120_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException).code === 'number' ? Number((err as NodeJS.ErrnoException).code) : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) + (err && !stderr ? err.message : '') });
    });
  });
}

const read = (p: string) => {
  try {
    return fs.readFileSync(p, 'utf8').trim();
  } catch {
    return undefined;
  }
};

/** The cgroup of a process and each ancestor up to the root, with the limit files each one has. */
function cgroupChain(pid: number): { path: string; files: Record<string, string | undefined> }[] {
  const own = read(`/proc/${pid}/cgroup`) ?? '';
  const v2 = own.split('\n').find((l) => l.startsWith('0::'));
  const chain: { path: string; files: Record<string, string | undefined> }[] = [];
  if (v2) {
    let rel = v2.slice(3);
    for (;;) {
      const dir = `${CG}${rel === '/' ? '' : rel}`;
      chain.push({ path: rel, files: Object.fromEntries(['memory.max', 'memory.events', 'pids.max', 'pids.events', 'pids.current', 'cpu.weight'].map((f) => [f, read(`${dir}/${f}`)])) });
      if (rel === '/' || rel === '') break;
      rel = rel.slice(0, rel.lastIndexOf('/')) || '/';
    }
  } else {
    const mem = own.split('\n').find((l) => /:memory:/.test(l))?.split(':')[2];
    const pids = own.split('\n').find((l) => /:pids:/.test(l))?.split(':')[2];
    for (let rel = mem ?? '/'; ; rel = rel.slice(0, rel.lastIndexOf('/')) || '/') {
      chain.push({ path: `memory:${rel}`, files: { 'memory.max': read(`${CG}/memory${rel}/memory.limit_in_bytes`), 'memory.events': `oom_kill ${/oom_kill (\d+)/.exec(read(`${CG}/memory${rel}/memory.oom_control`) ?? '')?.[1] ?? 0}` } });
      if (rel === '/') break;
    }
    for (let rel = pids ?? '/'; ; rel = rel.slice(0, rel.lastIndexOf('/')) || '/') {
      chain.push({ path: `pids:${rel}`, files: { 'pids.max': read(`${CG}/pids${rel}/pids.max`), 'pids.events': read(`${CG}/pids${rel}/pids.events`) } });
      if (rel === '/') break;
    }
  }
  return chain;
}

const num = (v: string | undefined) => (v === undefined || v === 'max' || v === '' ? Infinity : Number(v));
/** The limit that actually binds: the smallest along the chain. */
const effective = (chain: ReturnType<typeof cgroupChain>, file: string) => Math.min(...chain.map((c) => num(c.files[file])));
const counter = (chain: ReturnType<typeof cgroupChain>, file: string, key: string) =>
  chain.reduce((sum, c) => sum + Number(new RegExp(`(?:^|\\n)${key} (\\d+)`).exec(c.files[file] ?? '')?.[1] ?? 0), 0);

async function main(): Promise<void> {
  const res = await fetch(URL + '/');
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
  const s: Socket<ServerToClient, ClientToServer> = io(URL, { transports: ['websocket'], extraHeaders: { cookie, origin: URL } });
  let output = '';
  const notices: string[] = [];
  const phases: string[] = [];
  const termStates: string[] = [];
  let session: SessionView | undefined;
  let failure: string | undefined;
  s.on('term:data', ({ data }) => {
    output += data;
    if (output.length > 400_000) output = output.slice(-200_000);
    s.emit('term:ack', { term: 1, chars: data.length });
  });
  s.on('notice', (n) => notices.push(`${n.level}: ${n.message}`));
  s.on('session:update', (v) => {
    session = v;
    phases.push(`${since()}s ${v.phase}${v.message ? `: ${v.message}` : ''}`);
    if (v.phase === 'failed' || v.phase === 'ended' || v.phase === 'expired') failure ??= `session ${v.phase}${v.message ? `: ${v.message}` : ''}`;
  });
  s.on('term:state', (t) => {
    termStates.push(`${since()}s term${t.term} ${t.state}${t.message ? `: ${t.message}` : ''}`);
    if (t.state === 'failed') failure ??= `terminal failed${t.message ? `: ${t.message}` : ''}`;
  });
  const waitFor = (pred: () => boolean, timeoutMs: number, what: string) =>
    new Promise<void>((resolve, reject) => {
      const end = Date.now() + timeoutMs;
      const tick = setInterval(() => {
        if (pred()) {
          clearInterval(tick);
          resolve();
        } else if (failure) {
          clearInterval(tick);
          reject(new Error(failure));
        } else if (Date.now() > end) {
          clearInterval(tick);
          reject(new Error(`${what}: nothing after ${Math.round(timeoutMs / 1000)} s`));
        }
      }, 250);
    });
  const typeAndWait = async (cmd: string, marker: string, timeoutMs = 120_000) => {
    const from = output.length;
    s.emit('term:input', { term: 1, data: cmd + '\r' });
    await waitFor(() => output.slice(Math.max(0, from - 10)).includes(marker), timeoutMs, `"${cmd}"`);
  };
  try {
    await new Promise<void>((resolve, reject) => {
      s.once('connect', () => resolve());
      s.once('connect_error', (e) => reject(new Error(`socket: ${e.message}`)));
    });
    const joined = await new Promise<SessionView>((resolve, reject) =>
      s.emit('session:join', { labId: LAB }, (r) => (r.ok ? resolve(r.value.session) : reject(new Error(`session:join refused: ${r.error.message}`)))),
    );
    session = joined;
    note(`joined ${LAB}: session ${joined.id}, phase ${joined.phase}`);
    s.emit('term:resize', { term: 1, cols: 120, rows: 40 });
    await waitFor(() => output.includes(PROMPT), READY_TIMEOUT_MS, `the prompt ${PROMPT}`);
    report.prompt_s = since();
    note(`prompt after ${report.prompt_s} s`);
    await typeAndWait('echo HT_$((6*7))', 'HT_42');
    report.sandbox_ready = true;
  } catch (err) {
    report.sandbox_ready = false;
    report.error = (err as Error).message;
    note(`no sandbox: ${report.error}`);
  }
  report.phases = phases;
  report.term_states = termStates;
  report.notices = notices;
  report.output_tail = output.slice(-3000);
  save();

  if (session) {
    const ps = await sh('docker', ['ps', '-q', '--no-trunc', '--filter', `label=io.lablab.session=${session.id}`, '--filter', 'label=io.lablab.node=1']);
    // The engine's session label is the server's own id, which may differ from the one the page is
    // told; this VM serves one learner, so its newest node-1 sandbox is this learner's.
    const any = ps.stdout.trim() ? ps : await sh('docker', ['ps', '-q', '--no-trunc', '--filter', 'label=io.lablab.kind=sandbox', '--filter', 'label=io.lablab.node=1']);
    const cid = any.stdout.trim().split('\n')[0];
    if (!cid) note('no sandbox container found for the limits');
    if (cid && report.sandbox_ready) await limits(cid, (c, m, t) => typeAndWait(c, m, t));
    report.output_tail = output.slice(-3000);
    save();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 120_000);
      s.emit('session:end', {}, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    note('session ended');
  }
  s.close();
}

async function limits(cid: string, type: (cmd: string, marker: string, timeoutMs?: number) => Promise<void>): Promise<void> {
  const info = JSON.parse((await sh('docker', ['inspect', cid])).stdout)[0];
  const pid: number = info.State.Pid;
  const before = cgroupChain(pid);
  const memLimit = effective(before, 'memory.max');
  const pidsLimit = effective(before, 'pids.max');
  report.container = { id: cid.slice(0, 12), cgroup_parent: info.HostConfig.CgroupParent, memory: info.HostConfig.Memory, pids_limit: info.HostConfig.PidsLimit, apparmor: info.AppArmorProfile, security_opt: info.HostConfig.SecurityOpt, runtime: info.HostConfig.Runtime };
  report.cgroup_chain = before;
  report.memory_max_bytes = Number.isFinite(memLimit) ? memLimit : 'max';
  report.pids_max = Number.isFinite(pidsLimit) ? pidsLimit : 'max';
  note(`host cgroup of the sandbox: ${before[0]?.path}; effective memory.max ${report.memory_max_bytes}, pids.max ${report.pids_max}`);
  save();
  const hasLearner = (await sh('docker', ['exec', cid, 'test', '-x', '/usr/local/sbin/lablab-learner'])).code === 0;
  const asLearner = hasLearner ? ['/usr/local/sbin/lablab-learner'] : [];
  report.ran_as_learner_wrapper = hasLearner;

  // An inner container: the inner engine must be able to run one (runc's device rules on v2 need bpf).
  const images = (await sh('docker', ['exec', cid, 'docker', 'images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout.trim().split('\n').filter((i) => i && !i.includes('<none>'));
  const img = images.find((i) => /busybox|debian|golang/.test(i)) ?? images[0];
  if (img) {
    const r = await sh('docker', ['exec', cid, ...asLearner, 'docker', 'run', '--rm', img, 'true'], 600_000);
    report.inner_container = { image: img, ran: r.code === 0, stderr: r.stderr.slice(-1500) };
    note(`inner docker run ${img}: ${r.code === 0 ? 'ran' : `failed: ${r.stderr.trim().split('\n').pop()}`}`);
  } else report.inner_container = { ran: false, stderr: 'no image in the inner engine' };
  save();

  // Fork bomb, bounded: forks until fork() fails or the bound (the limit plus 512) is reached.
  const bound = (Number.isFinite(pidsLimit) ? pidsLimit : 1024) + 512;
  const eventsBefore = counter(cgroupChain(pid), 'pids.events', 'max');
  const bomb = await sh('docker', ['exec', cid, ...asLearner, 'perl', '-e', `my $n = 0; for (1..${bound}) { my $p = fork(); if (!defined $p) { print "fork failed after $n: $!\\n"; last } if ($p == 0) { sleep 20; exit 0 } $n++ } print "forked $n\\n"; 1 while wait() != -1;`], 600_000);
  const eventsAfter = counter(cgroupChain(pid), 'pids.events', 'max');
  const forked = Number(/(?:forked|fork failed after) (\d+)/.exec(bomb.stdout)?.[1] ?? NaN);
  report.fork_bomb = { bound, forked, output: bomb.stdout.trim().slice(-500), stderr: bomb.stderr.slice(-500), pids_events_max_before: eventsBefore, pids_events_max_after: eventsAfter, contained: forked < bound && /fork failed/.test(bomb.stdout) && eventsAfter > eventsBefore };
  note(`fork bomb: ${bomb.stdout.trim().split('\n').pop()}; pids.events max ${eventsBefore} -> ${eventsAfter}`);
  save();

  // Memory hog: half a GiB more than the limit, written page by page.
  const hogBytes = (Number.isFinite(memLimit) ? memLimit : 2048 * 1024 * 1024) + 512 * 1024 * 1024;
  const oomBefore = counter(cgroupChain(pid), 'memory.events', 'oom_kill');
  const hog = await sh('docker', ['exec', cid, ...asLearner, 'perl', '-e', `my $x = "a" x ${hogBytes}; print "allocated\\n";`], 900_000);
  const oomAfter = counter(cgroupChain(pid), 'memory.events', 'oom_kill');
  report.memory_hog = { bytes: hogBytes, exit: hog.code, output: hog.stdout.trim().slice(-300), oom_kill_before: oomBefore, oom_kill_after: oomAfter, contained: !/allocated/.test(hog.stdout) && oomAfter > oomBefore };
  note(`memory hog of ${hogBytes} bytes: exit ${hog.code}${/allocated/.test(hog.stdout) ? ' (allocated it all)' : ''}; oom_kill ${oomBefore} -> ${oomAfter}`);
  save();

  // Survival: the sandbox, its engine and the learner's terminal still answer.
  const running = (await sh('docker', ['inspect', '-f', '{{.State.Running}}', cid])).stdout.trim() === 'true';
  const engine = (await sh('docker', ['exec', cid, 'docker', 'info', '--format', '{{.ServerVersion}}'], 120_000)).code === 0;
  let terminal = false;
  try {
    await type('echo HT_$((7*8))', 'HT_56', 120_000);
    terminal = true;
  } catch {
    // reported as false
  }
  report.survived = { running, engine, terminal };
  note(`after: sandbox running ${running}, inner engine ${engine}, terminal ${terminal}`);
  save();
}

const guard = setTimeout(() => {
  report.error = `${report.error ?? ''} learner script gave up after ${READY_TIMEOUT_MS / 60_000 + 20} min`.trim();
  save();
  process.exit(3);
}, READY_TIMEOUT_MS + 20 * 60_000);
main().then(
  () => {
    clearTimeout(guard);
    save();
    process.exit(0);
  },
  (err) => {
    report.error = (err as Error).message;
    save();
    process.exit(2);
  },
);
