// The facade the rest of the server uses for learner sessions: join, view, terminals, checks, extend,
// end, reset. It keeps the phases (queued → starting → ready → ended/expired/failed) and tells pages;
// the work is in its parts:
//   admission.ts (who starts now, places in line; shared by replicas), starter.ts (admitted to ready:
//   provisioner.ts for sandboxes, runtime.ts for terminals and checks), progress-recorder.ts (results),
//   adoption.ts (picking sessions up after a restart or a dead replica), expiry.ts and reaper.ts
//   (timers), session-table.ts (what this replica serves), teardown.ts, session-writes.ts.
// Work done once for all replicas (reaping, sweeping) runs only while `lease` says this replica holds it.
import { capError, type SessionCaps } from './caps.ts';
import crypto from 'node:crypto';
import type { SandboxDriver, SandboxRef } from '../../sandbox/driver/types.ts';
import type { Lab } from '../labs/types.ts';
import type { CheckView, SessionView } from '../protocol/realtime.ts';
import type { Config } from '../config.ts';
import { TUNING } from '../config.ts';
import { AppError } from '../errors.ts';
import type { Terminal, PtyProcess } from '../terminals/terminal.ts';
import { every, type Timers } from '../timers.ts';
import type { WarmPool } from '../pool/warm-pool.ts';
import type { SessionRecord, Store } from './store.ts';
import { createProgressRecorder, type ProgressRecorder } from './progress-recorder.ts';
import { createLabVariables, type LabVariables } from './lab-variables.ts';
import { canExtend, extendedExpiry, isLive } from './lifecycle.ts';
import { createProvisioner, type Provisioner } from './provisioner.ts';
import { createLocalAdmission, createSharedAdmission, type Admission } from './admission.ts';
import { adopt, type AdoptionDeps } from './adoption.ts';
import { createExpiryTimers, type ExpiryTimers } from './expiry.ts';
import { createReaper, type Reaper } from './reaper.ts';
import { SessionTable, type Live } from './session-table.ts';
import { createTeardown, type Teardown } from './teardown.ts';
import { createSessionWrites, type SessionWrites } from './session-writes.ts';
import { createSessionStarter, type SessionStarter } from './starter.ts';
import type { CheckService, SessionEvents, SessionMetrics } from './types.ts';
import { createPlayNodes, nodesOf, type PlayNodes } from '../playground/nodes.ts';

export type { CheckRunner, CheckService, SessionEvents, SessionMetrics } from './types.ts';
export { promptCameBack } from './prompt.ts';

export interface SessionManagerDeps {
  config: Config;
  store: Store;
  driver: SandboxDriver;
  lab(id: string): Lab | undefined;
  checks: CheckService;
  spawnPty(socketPath: string, cols: number, rows: number): PtyProcess;
  /** How a sandbox's terminal reaches its shell (TERMINAL_TRANSPORT); without it, spawnPty + driver.ensureShell. */
  shellWire?(ref: SandboxRef): { spawn(cols: number, rows: number): PtyProcess; ensureShell(): Promise<void> };
  /** The clock and timers for expiry, the queue tick, the reaper and terminals. */
  timers: Timers;
  log(msg: string, err?: unknown): void;
  /**
   * Present with replicas: held by the one replica that reaps and sweeps. Its presence also makes
   * admission count every replica's sessions from the store; without it this replica does all alone.
   */
  lease?: { held(): boolean };
  /** This replica's name in the admission lease (with `lease`). */
  replicaId?: string;
  /** Ready sandboxes made ahead; without it every arrival creates cold. */
  pool?: WarmPool;
  metrics?: SessionMetrics;
  /** Follows results and started steps (hints). */
  observer?: {
    /** `asked`: the learner clicked Check (rather than the watcher re-checking by itself). */
    results(s: { learnerId: string; labId: string }, views: CheckView[], asked: boolean): void;
    stepStarted(s: { learnerId: string; labId: string }, stepId: string): void;
  };
}

const EXPIRED = 'Your session reached its time limit and its sandbox was removed. Your progress is saved: open the lab again to get a fresh sandbox.';
const QUEUE_LEFT = 'You left the queue: this page was closed while you waited. Open the lab again to queue for a sandbox.';

export class SessionManager {
  private readonly table = new SessionTable();
  private disposed = false;
  private stopQueueTick?: () => void;
  private readonly now: () => number;
  private readonly writes: SessionWrites;
  private readonly recorder: ProgressRecorder;
  /** The learner's values of each lab's variables ($$name$$). */
  readonly variables: LabVariables;
  private readonly provisioner: Provisioner;
  private readonly admission: Admission;
  private readonly expiry: ExpiryTimers;
  private readonly reaper: Reaper;
  private readonly teardown: Teardown;
  /** Teardowns of ended sessions still running; dispose waits for them. */
  private readonly closing = new Set<Promise<void>>();
  private readonly adoption: AdoptionDeps;
  private readonly starter: SessionStarter;
  private readonly playNodes: PlayNodes;

  constructor(private readonly deps: SessionManagerDeps) {
    const { store, driver, config, timers, log } = deps;
    this.now = () => timers.now();
    this.writes = createSessionWrites({ store, log });
    this.recorder = createProgressRecorder({ store, now: this.now });
    this.variables = createLabVariables({ store, lab: deps.lab, now: this.now });
    this.provisioner = createProvisioner({ driver, config, pool: deps.pool, now: this.now, sandboxReady: (ms, src) => deps.metrics?.sandboxReady(ms, src) });
    this.teardown = createTeardown({ driver, dataDir: config.dataDir, log });
    this.starter = createSessionStarter({
      store, driver, timers, log, provisioner: this.provisioner, recorder: this.recorder, checks: deps.checks, spawnPty: deps.spawnPty,
      shellWire: deps.shellWire, metrics: deps.metrics, observer: deps.observer,
      scrollbackFile: (sid, node) => this.teardown.scrollbackFile(sid, node),
      stopped: () => this.disposed,
      setPhase: (live, phase, message) => this.setPhase(live, phase, message),
      fail: (live, message) => this.close(live, 'failed', message),
    });
    this.admission = deps.lease
      ? createSharedAdmission({
          store, timers, log, holder: deps.replicaId ?? crypto.randomUUID(), maxSandboxes: config.maxSandboxes,
          sandboxesOf: (labId) => deps.lab(labId)?.terms ?? 0,
          idle: () => this.writes.idle(),
        })
      : createLocalAdmission(config.maxSandboxes);
    this.expiry = createExpiryTimers({ timers, expire: (sid) => this.table.get(sid) && this.close(this.table.get(sid)!, 'expired', EXPIRED) });
    this.reaper = createReaper({
      store, driver, timers, log, lease: deps.lease,
      isLocal: (sid) => !!this.table.get(sid),
      labelLive: (sid) => this.table.owns(sid) || !!deps.pool?.holds(sid),
      expire: async (rec, refs) => {
        await this.finish(rec, 'expired', EXPIRED);
        await this.teardown.destroyAll(rec.id, refs);
      },
    });
    this.playNodes = createPlayNodes({
      driver, config, log,
      capacity: () => this.admission.capacity(this.table.likes()),
      saveRefs: (sid, refs) => store.saveSandboxes(sid, refs),
      forgetScrollback: (sid, node) => this.teardown.forgetScrollback(sid, node),
      stillLive: (live) => this.table.get(live.rec.id) === live && live.rec.phase === 'ready',
      changed: (live) => this.emit(live),
    });
    this.adoption = {
      store, now: this.now, lab: deps.lab, log, expiredMessage: EXPIRED,
      finish: (rec, phase, message) => this.finish(rec, phase, message),
      destroyAll: (sid, refs) => this.teardown.destroyAll(sid, refs),
      track: (rec, lab) => this.track(rec, lab),
      startRuntime: (live) => this.starter.startRuntime(live),
      requeue: (live, message) => this.setPhase(live, 'queued', message),
    };
  }

  /** Resolves once every session and progress write started so far reached the store. */
  async flush(): Promise<void> {
    await this.writes.idle();
    await this.recorder.idle();
  }

  /** Reloads live sessions from the database, re-attaching to sandboxes that still run; starts the timers. */
  async restore(): Promise<void> {
    const running = new Set((await this.deps.driver.list()).map((r) => r.id));
    // With several replicas, each adopts its learners' sessions as they reconnect (join); a lone
    // server (no lease) takes all of them back now.
    if (!this.deps.lease) for (const rec of await this.deps.store.liveSessions()) await adopt(this.adoption, rec, running);
    await this.pumpQueue();
    await this.reaper.reap();
    this.stopQueueTick = every(this.deps.timers, TUNING.queueTickMs, () => void this.pumpQueue());
    this.reaper.start(TUNING.reapIntervalMs);
  }

  /**
   * The learner opens a lab: returns their live session for it, or a new (possibly queued) one. With
   * `caps`, a new session is only made within them, counted and inserted in one step by the store.
   */
  async join(learnerId: string, labId: string, caps?: SessionCaps): Promise<SessionView> {
    const lab = this.deps.lab(labId);
    if (!lab) throw new AppError('not_found', `There is no lab called "${labId}".`);
    if (lab.problems.length > 0) throw new AppError('lab_broken', `The lab "${lab.title}" has errors and cannot run yet. Its author can see them on the lab page.`);
    const mine = this.table.find(learnerId, labId);
    if (mine) return this.view(mine.rec.id);
    await this.writes.idle();
    const stored = await this.deps.store.liveSessionFor(learnerId, labId);
    // Served by a replica that died (or by this one before a restart): carry on with it here.
    if (stored && !this.table.get(stored.id)) {
      const running = new Set((await this.deps.driver.list()).map((r) => r.id));
      const again = this.table.find(learnerId, labId); // another join won the race meanwhile
      if (again) return this.view(again.rec.id);
      const adopted = await adopt(this.adoption, stored, running);
      if (adopted) {
        await this.pumpQueue();
        return this.view(adopted.rec.id);
      }
    }
    const now = this.now();
    const rec: SessionRecord = { id: crypto.randomBytes(9).toString('base64url'), learnerId, labId, phase: 'queued', createdAt: now, expiresAt: now + this.deps.config.sessionTtlMs };
    if (caps) {
      const refused = await this.deps.store.createSession(rec, caps);
      if (refused) throw capError(refused);
    } else {
      await this.deps.store.saveSession(rec);
    }
    this.track(rec, lab);
    await this.pumpQueue();
    return this.view(rec.id);
  }

  owns(learnerId: string, sessionId: string): boolean {
    return this.table.get(sessionId)?.rec.learnerId === learnerId;
  }

  view(sessionId: string, ended?: SessionRecord): SessionView {
    const live = this.table.get(sessionId);
    const rec = live?.rec ?? ended ?? this.table.endedRecord(sessionId);
    if (!rec) throw new AppError('not_found', 'That session does not exist.');
    const q = live ? this.admission.position(this.table.likes(), sessionId) : undefined;
    return {
      id: rec.id, labId: rec.labId, phase: rec.phase, terms: live?.lab.terms ?? 0, expiresAt: rec.expiresAt, serverNow: this.now(),
      queuePosition: q?.position, queueLength: q?.length, message: rec.message,
      canExtend: isLive(rec.phase) && canExtend(rec, this.deps.config.sessionMaxMs),
      ...(live?.lab.playground ? { nodes: nodesOf(live), maxNodes: live.lab.playground.maxNodes } : {}),
    };
  }

  subscribe(sessionId: string, l: SessionEvents): () => void {
    const live = this.table.get(sessionId);
    if (!live) return () => {};
    live.listeners.add(l);
    live.unwatchedSince = undefined;
    return () => {
      live.listeners.delete(l);
      if (live.listeners.size === 0) live.unwatchedSince = this.now();
    };
  }

  /** The learner's sandbox for a lab and node, while that session is ready. */
  sandboxFor(learnerId: string, labId: string, node: number): SandboxRef | undefined {
    const live = this.table.find(learnerId, labId);
    if (!live || live.rec.phase !== 'ready') return undefined;
    return live.refs.find((r) => r.node === node);
  }

  terminal(sessionId: string, node: number): Terminal | undefined {
    return this.table.get(sessionId)?.runtime?.terminal(node);
  }

  /** Progress of a learner in a lab (what passed stays passed). */
  progress(learnerId: string, labId: string): Promise<CheckView[]> {
    return this.recorder.progress(learnerId, labId);
  }

  async runStep(sessionId: string, stepId: string): Promise<CheckView[]> {
    const live = this.table.get(sessionId);
    const runner = live?.runtime?.runner;
    if (!live || live.rec.phase !== 'ready' || !runner) throw new AppError('bad_request', 'The sandbox is not ready yet; wait for the terminal, then check again.');
    if (!live.lab.steps.some((s) => s.id === stepId)) throw new AppError('bad_request', `This lab has no step "${stepId}".`);
    const t0 = this.now();
    const views = await runner.runStep(stepId);
    this.deps.metrics?.checkRun(this.now() - t0);
    return this.starter.recordResults(live, views, true);
  }

  /** Something changed in a learner's sandbox outside the terminal (the editor saved, a file was uploaded). */
  poke(learnerId: string, labId: string): void {
    this.table.find(learnerId, labId)?.runtime?.runner?.poke();
  }

  /** Prepares a step of an imported lab (its set-up scripts) before the learner's first block of it runs. */
  async stepSetup(sessionId: string, stepId: string): Promise<{ ok: boolean; message?: string }> {
    const live = this.table.get(sessionId);
    const runner = live?.runtime?.runner;
    if (!live || live.rec.phase !== 'ready' || !runner) throw new AppError('bad_request', 'The sandbox is not ready yet; wait for the terminal, then try again.');
    if (!live.lab.steps.some((s) => s.id === stepId)) throw new AppError('bad_request', `This lab has no step "${stepId}".`);
    return runner.setup(stepId);
  }

  stepStarted(sessionId: string, stepId: string): void {
    const live = this.table.get(sessionId);
    if (live) this.deps.observer?.stepStarted(live.rec, stepId);
    live?.runtime?.runner?.stepStarted(stepId);
  }

  extend(sessionId: string): SessionView {
    const live = this.mustLive(sessionId);
    const { sessionExtendMs, sessionMaxMs } = this.deps.config;
    live.rec.expiresAt = extendedExpiry(live.rec, this.now(), sessionExtendMs, sessionMaxMs);
    this.writes.persist(live.rec);
    this.armExpiry(live);
    this.emit(live);
    return this.view(sessionId);
  }

  end(sessionId: string): SessionView {
    const live = this.mustLive(sessionId);
    this.close(live, 'ended', 'You ended this session. Your progress is saved; start the lab again whenever you like.');
    return this.view(sessionId, live.rec);
  }

  /** Playground: one more node on the session's private network (node cap and capacity permitting). */
  async addNode(sessionId: string): Promise<SessionView> {
    await this.playNodes.add(this.mustLive(sessionId));
    return this.view(sessionId);
  }

  /** Playground: removes one node (never the last). */
  async removeNode(sessionId: string, node: number): Promise<SessionView> {
    await this.playNodes.remove(this.mustLive(sessionId), node);
    return this.view(sessionId);
  }

  /** A ready session's sandboxes, in node order (the playground's templates and stats work on them). */
  readyRefs(sessionId: string): SandboxRef[] {
    const live = this.table.get(sessionId);
    return live?.rec.phase === 'ready' ? [...live.refs].sort((a, b) => a.node - b.node) : [];
  }

  /** This replica's sandboxes, sessions and queue length, for the host page and logs. */
  stats(): { sandboxes: number; ready: number; starting: number; queued: number; max: number } {
    let sandboxes = 0, ready = 0, starting = 0, queued = 0;
    for (const l of this.table.all()) {
      if (l.rec.phase === 'ready') ready++;
      if (l.rec.phase === 'starting') starting++;
      if (l.rec.phase === 'queued') queued++;
      if (l.rec.phase === 'ready' || l.rec.phase === 'starting') sandboxes += l.lab.terms;
    }
    return { sandboxes, ready, starting, queued, max: this.deps.config.maxSandboxes };
  }

  liveSessions(): SessionRecord[] {
    return this.table.all().map((l) => l.rec);
  }

  reap(): Promise<void> {
    return this.reaper.reap();
  }

  /** Ends the sessions whose sandboxes went with their engine (sandbox ids or pool ids), saying why. */
  lose(sessionIds: string[], message: string): void {
    const gone = new Set(sessionIds);
    for (const live of this.table.all()) {
      if (gone.has(live.rec.id) || live.refs.some((r) => gone.has(r.sessionId))) this.close(live, 'failed', message);
    }
  }

  /** Sandboxes held by learners and wanted by queued ones (every replica's, when shared): the room the warm pool must leave. */
  capacity(): { inUse: number; queued: number; max: number } {
    return { ...this.admission.capacity(this.table.likes()), max: this.deps.config.maxSandboxes };
  }

  /** The live session of a learner in a lab, if any. */
  liveSessionOf(learnerId: string, labId: string): SessionRecord | undefined {
    return this.table.find(learnerId, labId)?.rec;
  }

  /**
   * The host resets a learner's sandbox: the old one is destroyed and a fresh one provisioned for the
   * same session, so the learner's page re-attaches by itself. Progress is per learner and lab, so it stays.
   */
  async reset(sessionId: string): Promise<SessionView> {
    const live = this.mustLive(sessionId);
    await live.provisioning?.catch(() => {});
    if (live.rec.phase !== 'ready') throw new AppError('bad_request', 'This sandbox is still starting or queued; reset it once it is ready.');
    live.runtime?.dispose();
    live.runtime = undefined;
    const refs = live.refs;
    const aliases = [...live.aliases];
    live.refs = [];
    live.aliases.clear();
    this.setPhase(live, 'starting', 'The workshop host is giving you a fresh sandbox; your progress is kept.');
    await this.teardown.destroyAll(sessionId, refs, aliases);
    live.provisioning = this.starter.provision(live);
    await live.provisioning;
    return this.view(sessionId);
  }

  /** Stops timers and terminals but leaves sandboxes running, so a restart can re-attach. */
  async dispose(): Promise<void> {
    this.disposed = true;
    this.stopQueueTick?.();
    this.reaper.dispose();
    this.expiry.dispose();
    this.admission.dispose();
    const all = this.table.all();
    for (const live of all) live.runtime?.dispose();
    await Promise.allSettled(all.map((l) => l.provisioning));
    // Sessions that ended just before the stop finish their teardown first (sandboxes, networks, rules).
    await Promise.allSettled([...this.closing]);
    this.table.clear();
    await this.flush();
  }

  // ---- internals ------------------------------------------------------------------------------

  private track(rec: SessionRecord, lab: Lab): Live {
    const live = this.table.add(rec, lab);
    this.armExpiry(live);
    return live;
  }

  private armExpiry(live: Live): void {
    this.expiry.arm(live.rec.id, () => live.rec.expiresAt);
  }

  private mustLive(sessionId: string): Live {
    const live = this.table.get(sessionId);
    if (!live) throw new AppError('session_expired', 'This session has already ended. Reload the page to start a new one.');
    return live;
  }

  /**
   * Queued sessions nobody has watched for QUEUE_ABANDON (the learner closed the tab, or never opened
   * the socket) leave the line, so a sandbox is not started for nobody and held until it expires.
   */
  private dropAbandoned(): void {
    const now = this.now();
    for (const live of this.table.all()) {
      if (live.rec.phase !== 'queued' || live.listeners.size > 0) continue;
      live.unwatchedSince ??= now;
      if (now - live.unwatchedSince >= this.deps.config.queueAbandonMs) {
        this.deps.log(`session ${live.rec.id}: left the queue (nobody watching for ${Math.round((now - live.unwatchedSince) / 1000)} s)`);
        this.close(live, 'ended', QUEUE_LEFT);
      }
    }
  }

  /** Lone: done when it returns. Shared: resolves once this replica's admissions are written. */
  private pumpQueue(): Promise<void> | void {
    if (this.disposed) return;
    this.dropAbandoned();
    const pumped = this.admission.pump(() => this.table.likes(), (ids) => {
      for (const id of ids) {
        const live = this.table.get(id);
        if (live?.rec.phase === 'queued') live.provisioning = this.starter.provision(live);
      }
    });
    const told = () => {
      this.deps.pool?.kick();
      // Everyone still waiting learns their new place in the line.
      for (const live of this.table.all()) if (live.rec.phase === 'queued') this.emit(live);
    };
    if (!pumped) return told();
    return pumped.then(told);
  }

  private setPhase(live: Live, phase: SessionRecord['phase'], message: string | undefined): void {
    live.rec.phase = phase;
    live.rec.message = message;
    this.writes.persist(live.rec);
    this.emit(live);
  }

  private emit(live: Live): void {
    const v = this.view(live.rec.id);
    for (const l of live.listeners) l.update(v);
  }

  private close(live: Live, phase: 'expired' | 'ended' | 'failed', message: string): void {
    this.expiry.disarm(live.rec.id);
    live.runtime?.dispose();
    live.runtime = undefined;
    this.setPhase(live, phase, message);
    this.table.remove(live);
    // Wait for an in-flight provision so sandboxes it is still creating are destroyed too. Held in
    // `closing` so a stop waits for it: a process exiting mid-teardown left a session network's
    // egress rules behind (seen by e2e/shared-data-dir.test.ts).
    const done: Promise<void> = (live.provisioning ?? Promise.resolve())
      .catch(() => {})
      .then(() => this.teardown.destroyAll(live.rec.id, live.refs, live.aliases))
      .catch((err) => this.deps.log(`session ${live.rec.id}: teardown failed (the reaper will retry)`, err))
      .finally(() => this.closing.delete(done));
    this.closing.add(done);
    void this.pumpQueue();
  }

  private async finish(rec: SessionRecord, phase: 'expired' | 'ended', message: string): Promise<void> {
    rec.phase = phase;
    rec.message = message;
    this.writes.persist(rec);
    await this.writes.idle();
  }
}
