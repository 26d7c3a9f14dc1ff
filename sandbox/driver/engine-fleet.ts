// The multi-engine front: one SandboxDriver over several Docker engines. A session is placed on
// one engine (by the pure scheduler) and every node, network, exec and terminal of it goes there.
// An engine that stops answering is lost: its sessions fail with a clear message, new sessions go
// elsewhere. A drained engine keeps its sessions and takes no new ones.
import type { Duplex, Readable } from 'node:stream';
import { SandboxError } from './errors.ts';
import { placeSession, type EngineLoad } from './scheduler.ts';
import type { EngineClient, ExecOptions, ExecResult, SandboxArchive, SandboxDriver, SandboxRef, SandboxShell, SandboxSpec, SandboxStatus, ShellStream } from './types.ts';

export type FullDriver = SandboxDriver & SandboxArchive & SandboxShell;

/** What an engine says about itself (docker info, plus our sandboxes running there). */
export interface EngineReport {
  memTotalBytes: number;
  cpus: number;
  running: number;
}

export interface FleetMember {
  id: string;
  driver: FullDriver;
  /** Asks the engine for its figures; rejects when it does not answer. */
  probe(): Promise<EngineReport>;
  /** Makes the engine ready for these lab images (ships the sandbox image when absent, builds templates). */
  prepare?(images: string[]): Promise<void>;
  maxSandboxes?: number;
}

export interface EngineFleetConfig {
  members: FleetMember[];
  /** Memory per sandbox the scheduler counts with. */
  memoryMiB: number;
  /** Consecutive failed probes before an engine counts as lost (one miss may be a slow answer). */
  lostAfterMisses?: number;
  /** A probe not answered within this counts as a miss (default 5 s): a frozen engine or a cut link never answers at all. */
  probeTimeoutMs?: number;
  /** Told once when an engine is lost, with the sessions that ran there. */
  onEngineLost?: (engine: string, sessionIds: string[]) => void;
  log?: (msg: string, err?: unknown) => void;
}

export const ENGINE_LOST_MESSAGE = 'The machine your sandbox ran on is gone; start the lab again to get a new one.';

export interface EngineState extends EngineLoad {
  lost: boolean;
  /** Why the last probe failed. */
  error?: string;
}

export interface EngineFleet extends FullDriver {
  /** Probes every engine once: health and capacity for the scheduler; marks lost engines. */
  refresh(): Promise<void>;
  /** Drains (or undrains) an engine: no new sessions go there. */
  drain(engine: string, on?: boolean): void;
  engines(): EngineState[];
  /** The engine a session is placed on, if any. */
  engineOf(sessionId: string): string | undefined;
}

/** Rejects with `message` when `p` has not settled within `ms`. */
function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

export function createEngineFleet(config: EngineFleetConfig): EngineFleet {
  const log = config.log ?? (() => {});
  const lostAfter = config.lostAfterMisses ?? 2;
  const probeTimeoutMs = config.probeTimeoutMs ?? 5_000;
  if (!config.members.length) throw new SandboxError('bad_request', 'no sandbox engine is configured');
  const members = new Map(config.members.map((m) => [m.id, m]));
  const state = new Map<string, EngineState & { misses: number }>(
    config.members.map((m) => [m.id, { id: m.id, healthy: true, draining: false, lost: false, memTotalBytes: 0, cpus: 0, running: 0, maxSandboxes: m.maxSandboxes, misses: 0 }]),
  );
  /** sessionId → engine id. */
  const placed = new Map<string, string>();
  /** Sandboxes being created per engine, not yet in a probe's count. */
  const pending = new Map<string, number>();
  let probedOnce: Promise<void> | undefined;

  function stateOf(id: string) {
    const s = state.get(id);
    if (!s) throw new SandboxError('not_found', `there is no sandbox engine "${id}"`);
    return s;
  }

  function memberFor(sessionId: string, engine?: string): FleetMember {
    const id = engine ?? placed.get(sessionId) ?? config.members[0]!.id;
    const m = members.get(id);
    if (!m) throw new SandboxError('engine_lost', ENGINE_LOST_MESSAGE);
    if (stateOf(id).lost) throw new SandboxError('engine_lost', ENGINE_LOST_MESSAGE);
    return m;
  }
  const on = (ref: SandboxRef) => memberFor(ref.sessionId, ref.engine);
  const tag = (ref: SandboxRef, engine: string): SandboxRef => ({ ...ref, engine });

  async function probeOne(m: FleetMember): Promise<void> {
    const s = stateOf(m.id);
    try {
      const r = await withTimeout(m.probe(), probeTimeoutMs, `no answer within ${probeTimeoutMs / 1000} s`);
      Object.assign(s, { healthy: true, memTotalBytes: r.memTotalBytes, cpus: r.cpus, running: r.running, misses: 0, error: undefined });
      if (s.lost) log(`engine ${m.id} answers again; it takes new sessions (the sessions it had were ended)`);
      s.lost = false;
    } catch (err) {
      s.misses++;
      s.healthy = false;
      s.error = (err as Error).message;
      if (!s.lost && s.misses >= lostAfter) {
        s.lost = true;
        const sessions = [...placed].filter(([, e]) => e === m.id).map(([sid]) => sid);
        for (const sid of sessions) placed.delete(sid);
        log(`engine ${m.id} is lost (${s.error}); ${sessions.length} session(s) on it end`);
        config.onEngineLost?.(m.id, sessions);
      }
    }
  }

  async function refresh(): Promise<void> {
    await Promise.all(config.members.map(probeOne));
  }

  async function place(sessionId: string, nodes: number): Promise<FleetMember> {
    const known = placed.get(sessionId);
    if (known) return memberFor(sessionId, known);
    probedOnce ??= refresh();
    await probedOnce;
    const loads = [...state.values()].map((s) => ({ ...s, healthy: s.healthy && !s.lost, running: s.running + (pending.get(s.id) ?? 0) }));
    const p = placeSession(loads, nodes, config.memoryMiB);
    if (!p.ok) throw new SandboxError('capacity', `No sandbox can start now: ${p.reason}. Try again in a few minutes, or ask the workshop host.`);
    placed.set(sessionId, p.engine);
    return members.get(p.engine)!;
  }

  /** Sessions with a sandbox made through this fleet: their engine is fixed. */
  const started = new Set<string>();
  const moving = new Map<string, Promise<{ m: FleetMember; network?: string }>>();

  /**
   * A network made ahead of its session (the pool's stock) may sit on an engine drained since: before
   * the first sandbox, the session moves to an open engine with a new network there.
   */
  function moveIfDrained(spec: SandboxSpec, m: FleetMember): Promise<{ m: FleetMember; network?: string }> {
    if (!stateOf(m.id).draining || started.has(spec.sessionId) || !spec.network) return Promise.resolve({ m, network: spec.network });
    let p = moving.get(spec.sessionId);
    if (!p) {
      p = (async () => {
        placed.delete(spec.sessionId);
        const to = await place(spec.sessionId, 1);
        if (to.id === m.id) return { m, network: spec.network };
        const network = await to.driver.createSessionNetwork(spec.sessionId);
        // The stock network on the drained engine is no one's now; the reaper would find it too.
        m.driver.removeSessionNetwork(spec.sessionId).catch((err) => log(`engine ${m.id}: could not remove network of ${spec.sessionId}`, err));
        log(`session ${spec.sessionId}: moved from drained engine ${m.id} to ${to.id}`);
        return { m: to, network };
      })();
      moving.set(spec.sessionId, p);
      p.finally(() => moving.delete(spec.sessionId)).catch(() => {});
    }
    return p;
  }

  async function create(spec: SandboxSpec): Promise<SandboxRef> {
    const moved = await moveIfDrained(spec, await place(spec.sessionId, 1));
    const m = moved.m;
    spec = { ...spec, network: moved.network };
    started.add(spec.sessionId);
    pending.set(m.id, (pending.get(m.id) ?? 0) + 1);
    try {
      return tag(await m.driver.create(spec), m.id);
    } finally {
      pending.set(m.id, (pending.get(m.id) ?? 1) - 1);
    }
  }

  /** Lists every reachable engine; a lost or silent engine's sandboxes are not ours to touch now. */
  async function list(): Promise<SandboxRef[]> {
    const out: SandboxRef[] = [];
    await Promise.all(
      config.members.map(async (m) => {
        if (stateOf(m.id).lost) return;
        try {
          for (const r of await m.driver.list()) {
            out.push(tag(r, m.id));
            if (r.sessionId && !placed.has(r.sessionId)) placed.set(r.sessionId, m.id);
          }
        } catch (err) {
          log(`engine ${m.id}: cannot list its sandboxes`, err);
        }
      }),
    );
    return out;
  }

  async function reap(opts: { now: number; isLive: (sessionId: string) => boolean }): Promise<string[]> {
    const out: string[] = [];
    await Promise.all(
      config.members.map(async (m) => {
        if (stateOf(m.id).lost) return;
        try {
          out.push(...(await m.driver.reap(opts)));
        } catch (err) {
          // One silent engine must not stop reaping on the others; the next round retries it.
          log(`engine ${m.id}: reaping failed`, err);
        }
      }),
    );
    for (const [sid] of placed) if (!opts.isLive(sid)) (placed.delete(sid), started.delete(sid));
    return out;
  }

  return {
    create,
    list,
    reap,
    refresh,
    waitReady: async (ref, opts) => on(ref).driver.waitReady(ref, opts),
    exec: async (ref: SandboxRef, cmd: string[], opts?: ExecOptions): Promise<ExecResult> => on(ref).driver.exec(ref, cmd, opts),
    ensureShell: async (ref) => on(ref).driver.ensureShell(ref),
    engine: (ref): EngineClient => on(ref).driver.engine(ref),
    connectPort: async (ref, port): Promise<Duplex> => on(ref).driver.connectPort(ref, port),
    async status(ref): Promise<SandboxStatus | null> {
      return on(ref).driver.status(ref);
    },
    async destroy(ref) {
      const id = ref.engine ?? placed.get(ref.sessionId);
      // A lost engine took its sandboxes with it: nothing left to remove from here.
      if (id && state.get(id)?.lost) return;
      await on(ref).driver.destroy(ref);
    },
    async createSessionNetwork(sessionId) {
      return (await place(sessionId, 1)).driver.createSessionNetwork(sessionId);
    },
    async removeSessionNetwork(sessionId) {
      const id = placed.get(sessionId);
      if (!id || stateOf(id).lost) return;
      await members.get(id)!.driver.removeSessionNetwork(sessionId);
    },
    copyFiles: async (ref, dir) => on(ref).driver.copyFiles!(ref, dir),
    setCpuShares: async (ref, shares) => on(ref).driver.setCpuShares?.(ref, shares),
    joinNetwork: async (ref, network, alias) => on(ref).driver.joinNetwork!(ref, network, alias),
    leaveNetwork: async (ref, network) => on(ref).driver.leaveNetwork!(ref, network),
    async prepareImages(images) {
      // Every engine that may get a session needs the lab's template; a silent one is prepared when it answers again.
      await Promise.all(
        config.members.map(async (m) => {
          if (!stateOf(m.id).healthy) return;
          await (m.prepare ? m.prepare(images) : m.driver.prepareImages?.(images));
        }),
      );
    },
    getArchive: async (ref, p): Promise<Readable> => on(ref).driver.getArchive(ref, p),
    putArchive: async (ref, dir, tar) => on(ref).driver.putArchive(ref, dir, tar),
    attachShell: async (ref, cols, rows): Promise<ShellStream> => on(ref).driver.attachShell(ref, cols, rows),
    ensureShellInSandbox: async (ref) => on(ref).driver.ensureShellInSandbox(ref),
    drain(engine, onOff = true) {
      stateOf(engine).draining = onOff;
      log(`engine ${engine} ${onOff ? 'drained: it takes no new sessions' : 'takes new sessions again'}`);
    },
    engines: () => [...state.values()].map(({ misses: _m, ...s }) => ({ ...s })),
    engineOf: (sessionId) => placed.get(sessionId),
    async dispose() {
      await Promise.all(config.members.map((m) => m.driver.dispose()));
    },
  };
}
