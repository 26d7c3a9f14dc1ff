// Owns every learner session: admission and queue, provisioning sandboxes, terminals, checks,
// expiry, and picking all of that up again after a server restart.
import crypto from 'node:crypto';
import type { SandboxDriver, SandboxRef } from '../../sandbox/driver/types.ts';
import type { Lab } from '../labs/types.ts';
import type { CheckView, SessionView } from '../realtime/protocol.ts';
import type { Config } from '../config.ts';
import { TUNING } from '../config.ts';
import { AppError } from '../errors.ts';
import path from 'node:path';
import { Terminal, type PtyProcess } from '../terminals/terminal.ts';
import { openScrollbackFile } from '../terminals/scrollback-file.ts';
import type { SessionRecord, Store } from './store.ts';
import { mergeResult } from '../checks/merge.ts';
import { admit, canExtend, extendedExpiry, isLive, queuePosition, sandboxesInUse, queueOrder, type SessionLike } from './lifecycle.ts';
import type { WarmPool } from '../pool/warm-pool.ts';
import { adoptUnits } from '../pool/take.ts';

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
  terminals: Map<number, Terminal>;
  runner?: CheckRunner;
  expiry?: NodeJS.Timeout;
  listeners: Set<SessionEvents>;
  provisioning?: Promise<void>;
  /** Synthetic session ids its sandboxes or network carry (a pool unit's, a pre-made network's). */
  aliases: Set<string>;
}

/**
 * A prompt came back: the sandbox shell's OSC 133;A mark, or (a shell without it) "$ " or "# " at
 * the end, possibly followed by readline's redraw sequences such as ESC[K.
 */
const PROMPT_AT_END = /\x1b\]133;A\x07|[$#] (?:\x1b\[[0-?]*[ -/]*[@-~])*$/;
export const promptCameBack = (output: string): boolean => PROMPT_AT_END.test(output);

export class SessionManager {
  private readonly live = new Map<string, Live>();
  private queueTimer?: NodeJS.Timeout;
  private reapTimer?: NodeJS.Timeout;
  private disposed = false;
  private seq = 0;

  constructor(private readonly deps: SessionManagerDeps) {}

  /** Reloads live sessions from the database, re-attaching to sandboxes that still run. */
  async restore(): Promise<void> {
    const { store, driver, now } = this.deps;
    const running = new Set((await driver.list()).map((r) => r.id));
    for (const rec of store.liveSessions()) {
      const lab = this.deps.lab(rec.labId);
      if (!lab || lab.problems.length > 0) {
        this.finish(rec, 'ended', 'This lab is no longer available on this server.');
        continue;
      }
      if (rec.expiresAt <= now()) {
        const refs = store.sandboxes(rec.id);
        this.finish(rec, 'expired', expiredMessage());
        void this.destroyAll(rec.id, refs);
        continue;
      }
      const live = this.track(rec, lab);
      if (rec.phase === 'ready') {
        const refs = store.sandboxes(rec.id);
        if (refs.length === lab.terms && refs.every((r) => running.has(r.id))) {
          live.refs = refs;
          for (const r of refs) if (r.sessionId !== rec.id) live.aliases.add(r.sessionId);
          this.startRuntime(live);
          // Work may have finished while no server watched (a build that ran through a restart).
          live.runner?.poke();
          this.deps.log(`session ${rec.id}: re-attached to ${refs.length} sandbox(es)`);
          continue;
        }
        await this.destroyAll(rec.id, refs);
      }
      if (rec.phase === 'starting') {
        // A provision cut short by a restart: whatever it made is half-done; start over.
        await this.destroyAll(rec.id, store.sandboxes(rec.id));
      }
      if (rec.phase !== 'queued') this.setPhase(live, 'queued', 'Restarting your sandbox…');
    }
    this.pumpQueue();
    await this.reap();
    this.queueTimer = setInterval(() => this.pumpQueue(), TUNING.queueTickMs);
    this.reapTimer = setInterval(() => void this.reap(), TUNING.reapIntervalMs);
  }

  /** The learner opens a lab: returns their live session for it, or a new (possibly queued) one. */
  join(learnerId: string, labId: string): SessionView {
    const lab = this.deps.lab(labId);
    if (!lab) throw new AppError('not_found', `There is no lab called "${labId}".`);
    if (lab.problems.length > 0) throw new AppError('lab_broken', `The lab "${lab.title}" has errors and cannot run yet. Its author can see them on the lab page.`);
    const existing = this.deps.store.liveSessionFor(learnerId, labId);
    if (existing && this.live.has(existing.id)) return this.view(existing.id);
    const now = this.deps.now();
    const rec: SessionRecord = {
      id: crypto.randomBytes(9).toString('base64url'),
      learnerId,
      labId,
      phase: 'queued',
      createdAt: now,
      expiresAt: now + this.deps.config.sessionTtlMs,
    };
    this.deps.store.saveSession(rec);
    this.track(rec, lab);
    this.pumpQueue();
    return this.view(rec.id);
  }

  owns(learnerId: string, sessionId: string): boolean {
    return this.live.get(sessionId)?.rec.learnerId === learnerId;
  }

  view(sessionId: string): SessionView {
    const live = this.live.get(sessionId);
    const rec = live?.rec ?? this.deps.store.session(sessionId);
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
    const rec = this.deps.store.liveSessionFor(learnerId, labId);
    const live = rec && this.live.get(rec.id);
    if (!live || live.rec.phase !== 'ready') return undefined;
    return live.refs.find((r) => r.node === node);
  }

  terminal(sessionId: string, node: number): Terminal | undefined {
    return this.live.get(sessionId)?.terminals.get(node);
  }

  /** Progress of a learner in a lab (what passed stays passed). */
  progress(learnerId: string, labId: string): CheckView[] {
    return this.deps.store.progress(learnerId, labId);
  }

  async runStep(sessionId: string, stepId: string): Promise<CheckView[]> {
    const live = this.live.get(sessionId);
    if (!live || live.rec.phase !== 'ready' || !live.runner) throw new AppError('bad_request', 'The sandbox is not ready yet; wait for the terminal, then check again.');
    if (!live.lab.steps.some((s) => s.id === stepId)) throw new AppError('bad_request', `This lab has no step "${stepId}".`);
    const t0 = performance.now();
    const views = await live.runner.runStep(stepId);
    this.deps.metrics?.checkRun(performance.now() - t0);
    return this.recordResults(live, views, true);
  }

  /** Something changed in a learner's sandbox outside the terminal (the editor saved, a file was uploaded). */
  poke(learnerId: string, labId: string): void {
    const rec = this.deps.store.liveSessionFor(learnerId, labId);
    if (rec) this.live.get(rec.id)?.runner?.poke();
  }

  stepStarted(sessionId: string, stepId: string): void {
    const live = this.live.get(sessionId);
    if (live) this.deps.observer?.stepStarted(live.rec, stepId);
    live?.runner?.stepStarted(stepId);
  }

  extend(sessionId: string): SessionView {
    const live = this.mustLive(sessionId);
    const { sessionExtendMs, sessionMaxMs } = this.deps.config;
    live.rec.expiresAt = extendedExpiry(live.rec, this.deps.now(), sessionExtendMs, sessionMaxMs);
    this.deps.store.saveSession(live.rec);
    this.armExpiry(live);
    this.emit(live);
    return this.view(sessionId);
  }

  end(sessionId: string): SessionView {
    const live = this.mustLive(sessionId);
    this.close(live, 'ended', 'You ended this session. Your progress is saved; start the lab again whenever you like.');
    return this.view(sessionId);
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
    try {
      const reaped = await this.deps.driver.reap({ now: this.deps.now(), isLive: (sid) => this.labelLive(sid) });
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
      live.runner?.dispose();
      for (const t of live.terminals.values()) t.dispose();
    }
    await Promise.allSettled([...this.live.values()].map((l) => l.provisioning));
    this.live.clear();
  }

  // ---- internals ------------------------------------------------------------------------------

  private track(rec: SessionRecord, lab: Lab): Live {
    const live: Live = { rec, lab, seq: this.seq++, refs: [], terminals: new Map(), listeners: new Set(), aliases: new Set() };
    this.live.set(rec.id, live);
    this.armExpiry(live);
    return live;
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
    const { driver, config, store } = this.deps;
    const { rec, lab } = live;
    // `scratch` is Docker's empty base: nothing to preload.
    const images = lab.images.filter((i) => i !== 'scratch');
    this.setPhase(live, 'starting', undefined);
    const t0 = performance.now();
    const units = lab.terms > 0 ? this.deps.pool?.take({ images, terms: lab.terms }) : undefined;
    try {
      if (units) {
        for (const u of units) live.aliases.add(u.sid);
        live.refs = units.map((u, i) => ({ ...u.ref, node: i + 1 }));
        store.saveSandboxes(rec.id, live.refs);
        // Pooled sandboxes get their network, node names and the lab's files now, as a create would.
        live.refs = await adoptUnits(driver, units, lab.assetsDir);
        store.saveSandboxes(rec.id, live.refs);
        this.deps.metrics?.sandboxReady(performance.now() - t0, 'pool');
      } else if (lab.terms > 0) {
        const premade = this.deps.pool?.takeNetwork();
        if (premade) live.aliases.add(premade.sid);
        const network = premade?.name ?? (await driver.createSessionNetwork(rec.id));
        const expiresAt = rec.createdAt + config.sessionMaxMs;
        const created = await Promise.allSettled(
          Array.from({ length: lab.terms }, (_, i) =>
            // On a pre-made network the sandboxes carry its synthetic id, so a restart finds the alias in their refs.
            driver.create({
              sessionId: premade?.sid ?? rec.id, node: i + 1, images, assetsDir: lab.assetsDir, network, limits: config.limits, expiresAt,
              // Fetching a lab image or building its template can take a while: say so on the starting page.
              onProgress: i === 0 ? (m) => live.rec.phase === 'starting' && this.setPhase(live, 'starting', m) : undefined,
            }),
          ),
        );
        live.refs = created.flatMap((c) => (c.status === 'fulfilled' ? [c.value] : []));
        store.saveSandboxes(rec.id, live.refs);
        const failed = created.find((c): c is PromiseRejectedResult => c.status === 'rejected');
        if (failed) throw failed.reason;
        await Promise.all(live.refs.map((r) => driver.waitReady(r, { images, timeoutMs: 120_000 })));
        this.deps.metrics?.sandboxReady(performance.now() - t0, 'cold');
      }
      if (this.disposed || live.rec.phase !== 'starting') return; // ended or expired meanwhile
      this.startRuntime(live);
      this.setPhase(live, 'ready', undefined);
    } catch (err) {
      this.deps.log(`session ${rec.id}: sandbox failed to start`, err);
      // A missing lab image has a message for the author (in the log) and a shorter one for the learner.
      const learner = (err as { learnerMessage?: unknown }).learnerMessage;
      const why = typeof learner === 'string' ? learner : err instanceof AppError ? err.message : 'The sandbox could not start.';
      this.close(live, 'failed', `${why} Reload the page to try again.`);
    }
  }

  private startRuntime(live: Live): void {
    const { store, driver, spawnPty, log } = this.deps;
    const sid = live.rec.id;
    for (const ref of live.refs) {
      const wire = this.deps.shellWire?.(ref) ?? { spawn: (c: number, r: number) => spawnPty(ref.terminalSocket, c, r), ensureShell: () => driver.ensureShell(ref) };
      const t = new Terminal({
        spawn: (cols, rows) => wire.spawn(cols, rows),
        ensureShell: () => wire.ensureShell(),
        scrollback: openScrollbackFile(this.scrollbackFile(sid, ref.node), TUNING.scrollbackBytes),
        onOutput: (d) => {
          this.deps.metrics?.terminalBytes(Buffer.byteLength(d));
          if (promptCameBack(d)) live.runner?.poke();
        },
        log: (m, e) => log(`session ${sid} term ${ref.node}: ${m}`, e),
      });
      live.terminals.set(ref.node, t);
      t.start();
    }
    const first = live.refs[0];
    if (first && live.lab.steps.some((s) => s.checks.length > 0)) {
      const passed = new Set(store.progress(live.rec.learnerId, live.rec.labId).filter((p) => p.status === 'pass').map((p) => p.id));
      live.runner = this.deps.checks.start({
        lab: live.lab,
        ref: first,
        isPassed: (id) => passed.has(id),
        onResults: (views) => {
          for (const v of this.recordResults(live, views)) if (v.status === 'pass') passed.add(v.id);
        },
      });
    }
  }

  /** Stores results (a pass is never downgraded) and tells the page. Returns what was stored. */
  private recordResults(live: Live, views: CheckView[], asked = false): CheckView[] {
    const { store, now } = this.deps;
    const before = new Map(store.progress(live.rec.learnerId, live.rec.labId).map((p) => [p.id, p]));
    const merged = views.map((v) => mergeResult(before.get(v.id), v));
    this.deps.observer?.results(live.rec, merged, asked);
    const changed = merged.filter((v) => {
      const b = before.get(v.id);
      return !b || b.status !== v.status || b.message !== v.message;
    });
    if (changed.length) {
      store.saveProgress(live.rec.learnerId, live.rec.labId, changed, now());
      for (const l of live.listeners) l.checks(changed);
    }
    return merged.map(({ id, stepId, status, message, actual, expected }) => ({ id, stepId, status, message, actual, expected }));
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
    this.deps.store.saveSession(live.rec);
    this.emit(live);
  }

  private emit(live: Live): void {
    const v = this.view(live.rec.id);
    for (const l of live.listeners) l.update(v);
  }

  private close(live: Live, phase: 'expired' | 'ended' | 'failed', message: string): void {
    clearTimeout(live.expiry);
    live.runner?.dispose();
    for (const t of live.terminals.values()) t.dispose();
    live.terminals.clear();
    this.setPhase(live, phase, message);
    this.live.delete(live.rec.id);
    // Wait for an in-flight provision so sandboxes it is still creating are destroyed too.
    void (live.provisioning ?? Promise.resolve()).then(() => this.destroyAll(live.rec.id, live.refs, live.aliases));
    this.pumpQueue();
  }

  private finish(rec: SessionRecord, phase: 'expired' | 'ended', message: string): void {
    rec.phase = phase;
    rec.message = message;
    this.deps.store.saveSession(rec);
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
    const rec = this.deps.store.liveSessionFor(learnerId, labId);
    return rec && this.live.get(rec.id)?.rec;
  }

  /**
   * The host resets a learner's sandbox: the old one is destroyed and a fresh one provisioned for the
   * same session, so the learner's page re-attaches by itself. Progress is per learner and lab, so it stays.
   */
  async reset(sessionId: string): Promise<SessionView> {
    const live = this.mustLive(sessionId);
    await live.provisioning?.catch(() => {});
    if (live.rec.phase !== 'ready') throw new AppError('bad_request', 'This sandbox is still starting or queued; reset it once it is ready.');
    live.runner?.dispose();
    live.runner = undefined;
    for (const t of live.terminals.values()) t.dispose();
    live.terminals.clear();
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
