// Owns every learner session this replica serves: admission and queue, phases and expiry, and
// picking all of that up again after a restart, or after another replica died (its learners
// reconnect here and their sessions are adopted from the shared store).
// Work done once for all replicas (reaping, sweeping sessions nobody serves) runs only while
// `lease` says this replica holds it. Its parts: provisioner.ts (sandboxes), runtime.ts (terminals
// and checks of a ready session), progress-recorder.ts (results, a pass never downgraded).
import crypto from 'node:crypto';
import type { SandboxDriver, SandboxRef } from '../../sandbox/driver/types.ts';
import type { Lab } from '../labs/types.ts';
import type { CheckView, SessionView } from '../protocol/realtime.ts';
import type { Config } from '../config.ts';
import { TUNING } from '../config.ts';
import { AppError } from '../errors.ts';
import path from 'node:path';
import type { Terminal, PtyProcess } from '../terminals/terminal.ts';
import { openScrollbackFile } from '../terminals/scrollback-file.ts';
import { createSessionRuntime, type SessionRuntime } from './runtime.ts';
import type { SessionRecord, Store } from './store.ts';
import { createProgressRecorder, type ProgressRecorder } from './progress-recorder.ts';
import { admit, canExtend, extendedExpiry, isLive, queuePosition, sandboxesInUse, queueOrder, type SessionLike } from './lifecycle.ts';
import type { WarmPool } from '../pool/warm-pool.ts';
import { createProvisioner, type Provisioner } from './provisioner.ts';

/** Runs one session's checks against its sandbox; provided by server/checks. */
export interface CheckRunner {
  /** Evaluates every check of a step now. */
  runStep(stepId: string): Promise<CheckView[]>;
  /** The learner ran a block of this step: from now on its failures are worth showing unprompted. */
  stepStarted(stepId: string): void;
  /** Something may have changed (a block finished, a prompt came back): re-check pending checks soon. */
  poke(): void;
  dispose(): void;
}

export interface CheckService {
  start(args: { lab: Lab; ref: SandboxRef; isPassed: (checkId: string) => boolean; onResults: (views: CheckView[]) => void }): CheckRunner;
}

export interface SessionEvents {
  update(view: SessionView): void;
  checks(views: CheckView[]): void;
}

export interface SessionManagerDeps {
  config: Config;
  store: Store;
  driver: SandboxDriver;
  lab(id: string): Lab | undefined;
  checks: CheckService;
  spawnPty(socketPath: string, cols: number, rows: number): PtyProcess;
  /** How a sandbox's terminal reaches its shell (TERMINAL_TRANSPORT); without it, spawnPty + driver.ensureShell. */
  shellWire?(ref: SandboxRef): { spawn(cols: number, rows: number): PtyProcess; ensureShell(): Promise<void> };
  now(): number;
  log(msg: string, err?: unknown): void;
  /** Held by the one replica that reaps and sweeps; without it this replica always does. */
  lease?: { held(): boolean };
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

/** What the session manager reports to /metrics. */
export interface SessionMetrics {
  sandboxReady(ms: number, source: 'pool' | 'cold'): void;
  checkRun(ms: number): void;
  terminalBytes(n: number): void;
}

interface Live {
  rec: SessionRecord;
  seq: number;
  lab: Lab;
  refs: SandboxRef[];
  /** Terminals and checks, while the session is ready on this replica. */
  runtime?: SessionRuntime;
  expiry?: NodeJS.Timeout;
  listeners: Set<SessionEvents>;
  provisioning?: Promise<void>;
  /** Synthetic session ids its sandboxes or network carry (a pool unit's, a pre-made network's). */
  aliases: Set<string>;
}

export { promptCameBack } from './prompt.ts';

export class SessionManager {
  private readonly live = new Map<string, Live>();
  /** Sessions this replica ended lately, so their last view (why they ended) can still be shown. */
  private readonly ended = new Map<string, SessionRecord>();
  private queueTimer?: NodeJS.Timeout;
  private reapTimer?: NodeJS.Timeout;
  private disposed = false;
  private seq = 0;
  /** Session writes from synchronous paths, kept in order; dispose() and flush() wait for them. */
  private writes: Promise<void> = Promise.resolve();
  private readonly recorder: ProgressRecorder;
  private readonly provisioner: Provisioner;

  constructor(private readonly deps: SessionManagerDeps) {
    this.recorder = createProgressRecorder({ store: deps.store, now: deps.now });
    this.provisioner = createProvisioner({ driver: deps.driver, config: deps.config, pool: deps.pool, sandboxReady: (ms, src) => deps.metrics?.sandboxReady(ms, src) });
  }

  /** Resolves once every session and progress write started so far reached the store. */
  async flush(): Promise<void> {
    await this.writes;
    await this.recorder.idle();
  }

  /** Reloads live sessions from the database, re-attaching to sandboxes that still run. */
  async restore(): Promise<void> {
    const { store, driver, now } = this.deps;
    const running = new Set((await driver.list()).map((r) => r.id));
    // With several replicas, each adopts its learners' sessions as they reconnect (join); a lone
    // server (no lease) takes all of them back now.
    if (!this.deps.lease) for (const rec of await store.liveSessions()) await this.adopt(rec, running);
    this.pumpQueue();
    await this.reap();
    this.queueTimer = setInterval(() => this.pumpQueue(), TUNING.queueTickMs);
    this.reapTimer = setInterval(() => void this.reap(), TUNING.reapIntervalMs);
  }

  /**
   * Takes a live session from the store into this replica: re-attaches to its sandboxes when they
   * still run, otherwise queues it for fresh ones. Ends it when its lab is gone or its time is up.
   */
  private async adopt(rec: SessionRecord, running: Set<string>): Promise<Live | undefined> {
    const { store, now } = this.deps;
    const lab = this.deps.lab(rec.labId);
    if (!lab || lab.problems.length > 0) {
      await this.finish(rec, 'ended', 'This lab is no longer available on this server.');
      return undefined;
    }
    if (rec.expiresAt <= now()) {
      const refs = await store.sandboxes(rec.id);
      await this.finish(rec, 'expired', expiredMessage());
      void this.destroyAll(rec.id, refs);
      return undefined;
    }
    const live = this.track(rec, lab);
    if (rec.phase === 'ready') {
      const refs = await store.sandboxes(rec.id);
      if (refs.length === lab.terms && refs.every((r) => running.has(r.id))) {
        live.refs = refs;
        for (const r of refs) if (r.sessionId !== rec.id) live.aliases.add(r.sessionId);
        await this.startRuntime(live);
        // Work may have finished while no server watched (a build that ran through a restart).
        live.runtime?.runner?.poke();
        this.deps.log(`session ${rec.id}: re-attached to ${refs.length} sandbox(es)`);
        return live;
      }
      await this.destroyAll(rec.id, refs);
    }
    if (rec.phase === 'starting') {
      // A provision cut short by a restart: whatever it made is half-done; start over.
      await this.destroyAll(rec.id, await store.sandboxes(rec.id));
    }
    if (rec.phase !== 'queued') this.setPhase(live, 'queued', 'Restarting your sandbox…');
    return live;
  }

  /** The learner opens a lab: returns their live session for it, or a new (possibly queued) one. */
  async join(learnerId: string, labId: string): Promise<SessionView> {
    const lab = this.deps.lab(labId);
    if (!lab) throw new AppError('not_found', `There is no lab called "${labId}".`);
    if (lab.problems.length > 0) throw new AppError('lab_broken', `The lab "${lab.title}" has errors and cannot run yet. Its author can see them on the lab page.`);
    const mine = this.findLive(learnerId, labId);
    if (mine) return this.view(mine.rec.id);
    await this.writes;
    const stored = await this.deps.store.liveSessionFor(learnerId, labId);
    // Served by a replica that died (or by this one before a restart): carry on with it here.
    if (stored && !this.live.has(stored.id)) {
      const running = new Set((await this.deps.driver.list()).map((r) => r.id));
      const again = this.findLive(learnerId, labId); // another join won the race meanwhile
      if (again) return this.view(again.rec.id);
      const adopted = await this.adopt(stored, running);
      if (adopted) {
        this.pumpQueue();
        return this.view(adopted.rec.id);
      }
    }
    const now = this.deps.now();
    const rec: SessionRecord = {
      id: crypto.randomBytes(9).toString('base64url'),
      learnerId,
      labId,
      phase: 'queued',
      createdAt: now,
      expiresAt: now + this.deps.config.sessionTtlMs,
    };
    await this.deps.store.saveSession(rec);
    this.track(rec, lab);
    this.pumpQueue();
    return this.view(rec.id);
  }

  owns(learnerId: string, sessionId: string): boolean {
    return this.live.get(sessionId)?.rec.learnerId === learnerId;
  }

  view(sessionId: string, ended?: SessionRecord): SessionView {
    const live = this.live.get(sessionId);
    const rec = live?.rec ?? ended ?? this.ended.get(sessionId);
    if (!rec) throw new AppError('not_found', 'That session does not exist.');
    const q = live ? queuePosition(this.sessionLikes(), sessionId) : undefined;
    return {
      id: rec.id,
      labId: rec.labId,
      phase: rec.phase,
      terms: live?.lab.terms ?? 0,
      expiresAt: rec.expiresAt,
      serverNow: this.deps.now(),
      queuePosition: q?.position,
      queueLength: q?.length,
      message: rec.message,
      canExtend: isLive(rec.phase) && canExtend(rec, this.deps.config.sessionMaxMs),
    };
  }

  subscribe(sessionId: string, l: SessionEvents): () => void {
    const live = this.live.get(sessionId);
    if (!live) return () => {};
    live.listeners.add(l);
    return () => live.listeners.delete(l);
  }

  /** The learner's sandbox for a lab and node, while that session is ready. */
  sandboxFor(learnerId: string, labId: string, node: number): SandboxRef | undefined {
    const live = this.findLive(learnerId, labId);
    if (!live || live.rec.phase !== 'ready') return undefined;
    return live.refs.find((r) => r.node === node);
  }

  terminal(sessionId: string, node: number): Terminal | undefined {
    return this.live.get(sessionId)?.runtime?.terminal(node);
  }

  /** Progress of a learner in a lab (what passed stays passed). */
  progress(learnerId: string, labId: string): Promise<CheckView[]> {
    return this.recorder.progress(learnerId, labId);
  }

  async runStep(sessionId: string, stepId: string): Promise<CheckView[]> {
    const live = this.live.get(sessionId);
    const runner = live?.runtime?.runner;
    if (!live || live.rec.phase !== 'ready' || !runner) throw new AppError('bad_request', 'The sandbox is not ready yet; wait for the terminal, then check again.');
    if (!live.lab.steps.some((s) => s.id === stepId)) throw new AppError('bad_request', `This lab has no step "${stepId}".`);
    const t0 = performance.now();
    const views = await runner.runStep(stepId);
    this.deps.metrics?.checkRun(performance.now() - t0);
    return this.recordResults(live, views, true);
  }

  /** Something changed in a learner's sandbox outside the terminal (the editor saved, a file was uploaded). */
  poke(learnerId: string, labId: string): void {
    this.findLive(learnerId, labId)?.runtime?.runner?.poke();
  }

  stepStarted(sessionId: string, stepId: string): void {
    const live = this.live.get(sessionId);
    if (live) this.deps.observer?.stepStarted(live.rec, stepId);
    live?.runtime?.runner?.stepStarted(stepId);
  }

  extend(sessionId: string): SessionView {
    const live = this.mustLive(sessionId);
    const { sessionExtendMs, sessionMaxMs } = this.deps.config;
    live.rec.expiresAt = extendedExpiry(live.rec, this.deps.now(), sessionExtendMs, sessionMaxMs);
    this.persist(live.rec);
    this.armExpiry(live);
    this.emit(live);
    return this.view(sessionId);
  }

  end(sessionId: string): SessionView {
    const live = this.mustLive(sessionId);
    this.close(live, 'ended', 'You ended this session. Your progress is saved; start the lab again whenever you like.');
    return this.view(sessionId, live.rec);
  }

  /** Sandboxes, sessions and queue length, for the host page and logs. */
  stats(): { sandboxes: number; ready: number; starting: number; queued: number; max: number } {
    let sandboxes = 0, ready = 0, starting = 0, queued = 0;
    for (const l of this.live.values()) {
      if (l.rec.phase === 'ready') ready++;
      if (l.rec.phase === 'starting') starting++;
      if (l.rec.phase === 'queued') queued++;
      if (l.rec.phase === 'ready' || l.rec.phase === 'starting') sandboxes += l.lab.terms;
    }
    return { sandboxes, ready, starting, queued, max: this.deps.config.maxSandboxes };
  }

  liveSessions(): SessionRecord[] {
    return [...this.live.values()].map((l) => l.rec);
  }

  async reap(): Promise<void> {
    if (this.deps.lease && !this.deps.lease.held()) return;
    try {
      // Sessions other replicas serve are live too: their ids (and their sandboxes' ids) come from the store.
      const others = new Set<string>();
      if (this.deps.lease) {
        for (const rec of await this.deps.store.liveSessions()) {
          if (this.live.has(rec.id)) continue;
          if (rec.expiresAt <= this.deps.now()) {
            // Nobody came back for it before its time ran out: end it for whichever replica served it.
            const refs = await this.deps.store.sandboxes(rec.id);
            await this.finish(rec, 'expired', expiredMessage());
            await this.destroyAll(rec.id, refs);
            continue;
          }
          others.add(rec.id);
          for (const r of await this.deps.store.sandboxes(rec.id)) others.add(r.sessionId);
        }
      }
      const reaped = await this.deps.driver.reap({ now: this.deps.now(), isLive: (sid) => others.has(sid) || this.labelLive(sid) });
      if (reaped.length) this.deps.log(`reaped ${reaped.length} orphaned or expired sandbox(es)`);
    } catch (err) {
      this.deps.log('reap failed; will retry', err);
    }
  }

  /** Ends the sessions whose sandboxes went with their engine (sandbox ids or pool ids), saying why. */
  lose(sessionIds: string[], message: string): void {
    const gone = new Set(sessionIds);
    for (const live of [...this.live.values()]) {
      if (gone.has(live.rec.id) || live.refs.some((r) => gone.has(r.sessionId))) this.close(live, 'failed', message);
    }
  }

  /** Stops timers and terminals but leaves sandboxes running, so a restart can re-attach. */
  async dispose(): Promise<void> {
    this.disposed = true;
    clearInterval(this.queueTimer);
    clearInterval(this.reapTimer);
    for (const live of this.live.values()) {
      clearTimeout(live.expiry);
      live.runtime?.dispose();
    }
    await Promise.allSettled([...this.live.values()].map((l) => l.provisioning));
    this.live.clear();
    await this.flush();
  }

  // ---- internals ------------------------------------------------------------------------------

  private track(rec: SessionRecord, lab: Lab): Live {
    const live: Live = { rec, lab, seq: this.seq++, refs: [], listeners: new Set(), aliases: new Set() };
    this.live.set(rec.id, live);
    this.armExpiry(live);
    return live;
  }

  private findLive(learnerId: string, labId: string): Live | undefined {
    let found: Live | undefined;
    for (const l of this.live.values()) if (l.rec.learnerId === learnerId && l.rec.labId === labId && (!found || l.rec.createdAt >= found.rec.createdAt)) found = l;
    return found;
  }

  private mustLive(sessionId: string): Live {
    const live = this.live.get(sessionId);
    if (!live) throw new AppError('session_expired', 'This session has already ended. Reload the page to start a new one.');
    return live;
  }

  private sessionLikes(): SessionLike[] {
    return [...this.live.values()].map((l) => ({ id: l.rec.id, phase: l.rec.phase, createdAt: l.rec.createdAt, expiresAt: l.rec.expiresAt, sandboxes: l.lab.terms, seq: l.seq }));
  }

  private pumpQueue(): void {
    if (this.disposed) return;
    for (const id of admit(this.sessionLikes(), this.deps.config.maxSandboxes)) {
      const live = this.live.get(id)!;
      live.provisioning = this.provision(live);
    }
    this.deps.pool?.kick();
    // Everyone still waiting learns their new place in the line.
    for (const live of this.live.values()) if (live.rec.phase === 'queued') this.emit(live);
  }

  private async provision(live: Live): Promise<void> {
    const { rec, lab } = live;
    this.setPhase(live, 'starting', undefined);
    try {
      await this.provisioner.provision({
        sessionId: rec.id,
        createdAt: rec.createdAt,
        lab,
        aliases: live.aliases,
        onRefs: async (refs) => {
          live.refs = refs;
          await this.deps.store.saveSandboxes(rec.id, refs);
        },
        onProgress: (m) => live.rec.phase === 'starting' && this.setPhase(live, 'starting', m),
      });
      if (this.disposed || live.rec.phase !== 'starting') return; // ended or expired meanwhile
      await this.startRuntime(live);
      if (this.disposed || live.rec.phase !== 'starting') return;
      this.setPhase(live, 'ready', undefined);
    } catch (err) {
      this.deps.log(`session ${rec.id}: sandbox failed to start`, err);
      // A missing lab image has a message for the author (in the log) and a shorter one for the learner.
      const learner = (err as { learnerMessage?: unknown }).learnerMessage;
      const why = typeof learner === 'string' ? learner : err instanceof AppError ? err.message : 'The sandbox could not start.';
      this.close(live, 'failed', `${why} Reload the page to try again.`);
    }
  }

  private async startRuntime(live: Live): Promise<void> {
    const { driver, spawnPty, log } = this.deps;
    // Read before any terminal starts, so a check poked by the first prompt knows what already passed.
    const stored = live.lab.steps.some((s) => s.checks.length > 0) ? await this.recorder.progress(live.rec.learnerId, live.rec.labId) : [];
    const sid = live.rec.id;
    live.runtime = createSessionRuntime({
      sessionId: sid,
      lab: live.lab,
      refs: live.refs,
      wire: (ref) => this.deps.shellWire?.(ref) ?? { spawn: (c: number, r: number) => spawnPty(ref.terminalSocket, c, r), ensureShell: () => driver.ensureShell(ref) },
      scrollbackFile: (node) => this.scrollbackFile(sid, node),
      checks: this.deps.checks,
      passed: stored.filter((p) => p.status === 'pass').map((p) => p.id),
      record: (views) => this.recordResults(live, views),
      terminalBytes: (n) => this.deps.metrics?.terminalBytes(n),
      log,
    });
  }

  /** Stores results (a pass is never downgraded) and tells the page. Returns what was stored. */
  private async recordResults(live: Live, views: CheckView[], asked = false): Promise<CheckView[]> {
    const { merged, changed } = await this.recorder.record(live.rec.learnerId, live.rec.labId, views);
    this.deps.observer?.results(live.rec, merged, asked);
    if (changed.length) for (const l of live.listeners) l.checks(changed);
    return merged;
  }

  private armExpiry(live: Live): void {
    clearTimeout(live.expiry);
    const ms = Math.max(0, live.rec.expiresAt - this.deps.now());
    // setTimeout caps at ~24.8 days; sessions are hours long, but clamp anyway.
    live.expiry = setTimeout(() => {
      if (this.deps.now() >= live.rec.expiresAt) this.close(live, 'expired', expiredMessage());
      else this.armExpiry(live);
    }, Math.min(ms, 2 ** 31 - 1));
  }

  private setPhase(live: Live, phase: SessionRecord['phase'], message: string | undefined): void {
    live.rec.phase = phase;
    live.rec.message = message;
    this.persist(live.rec);
    this.emit(live);
  }

  private emit(live: Live): void {
    const v = this.view(live.rec.id);
    for (const l of live.listeners) l.update(v);
  }

  private close(live: Live, phase: 'expired' | 'ended' | 'failed', message: string): void {
    clearTimeout(live.expiry);
    live.runtime?.dispose();
    live.runtime = undefined;
    this.setPhase(live, phase, message);
    this.live.delete(live.rec.id);
    this.ended.set(live.rec.id, live.rec);
    if (this.ended.size > 1000) this.ended.delete(this.ended.keys().next().value!);
    // Wait for an in-flight provision so sandboxes it is still creating are destroyed too.
    void (live.provisioning ?? Promise.resolve()).then(() => this.destroyAll(live.rec.id, live.refs, live.aliases));
    this.pumpQueue();
  }

  private async finish(rec: SessionRecord, phase: 'expired' | 'ended', message: string): Promise<void> {
    rec.phase = phase;
    rec.message = message;
    this.persist(rec);
    await this.writes;
  }

  /** Queues a copy of the record for the store, after every earlier write. */
  private persist(rec: SessionRecord): void {
    const copy = { ...rec };
    this.writes = this.writes.then(() => this.deps.store.saveSession(copy)).catch((err) => this.deps.log(`session ${rec.id}: saving failed`, err));
  }

  private scrollbackFile(sessionId: string, node: number): string {
    return path.join(this.deps.config.dataDir, 'scrollback', `${sessionId}-${node}.log`);
  }

  private async destroyAll(sessionId: string, refs: SandboxRef[], aliases: Iterable<string> = []): Promise<void> {
    const { driver, log } = this.deps;
    for (const r of refs) openScrollbackFile(this.scrollbackFile(sessionId, r.node), 1).remove();
    const results = await Promise.allSettled(refs.map((r) => driver.destroy(r)));
    for (const r of results) if (r.status === 'rejected') log(`session ${sessionId}: destroy failed (the reaper will retry)`, r.reason);
    for (const sid of new Set([sessionId, ...aliases, ...refs.map((r) => r.sessionId)])) {
      try {
        await driver.removeSessionNetwork(sid);
      } catch (err) {
        log(`session ${sessionId}: network removal failed (the reaper will retry)`, err);
      }
    }
  }

  /** A label's session id is live when it is a live session's, one its sandboxes adopted, or the pool's. */
  private labelLive(sid: string): boolean {
    if (this.live.has(sid) || this.deps.pool?.holds(sid)) return true;
    for (const l of this.live.values()) if (l.aliases.has(sid)) return true;
    return false;
  }

  /** Sandboxes held by learners and wanted by queued ones: the room the warm pool must leave. */
  capacity(): { inUse: number; queued: number; max: number } {
    const likes = this.sessionLikes();
    return { inUse: sandboxesInUse(likes), queued: queueOrder(likes).reduce((n, s) => n + s.sandboxes, 0), max: this.deps.config.maxSandboxes };
  }

  /** The live session of a learner in a lab, if any. */
  liveSessionOf(learnerId: string, labId: string): SessionRecord | undefined {
    return this.findLive(learnerId, labId)?.rec;
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
    await this.destroyAll(sessionId, refs, aliases);
    live.provisioning = this.provision(live);
    await live.provisioning;
    return this.view(sessionId);
  }
}

function expiredMessage(): string {
  return 'Your session reached its time limit and its sandbox was removed. Your progress is saved: open the lab again to get a fresh sandbox.';
}
