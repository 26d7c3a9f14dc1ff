// Brings an admitted session to ready: its sandboxes (provisioner.ts), then its terminals and checks
// (runtime.ts), and records check results as they come. A session that ended meanwhile stops here;
// a failure ends it with a sentence for the learner.
import type { SandboxDriver, SandboxRef } from '../../sandbox/driver/types.ts';
import type { CheckView } from '../protocol/realtime.ts';
import type { PtyProcess } from '../terminals/terminal.ts';
import type { Timers } from '../timers.ts';
import { AppError } from '../errors.ts';
import { createSessionRuntime } from './runtime.ts';
import type { Provisioner } from './provisioner.ts';
import type { ProgressRecorder } from './progress-recorder.ts';
import type { Live } from './session-table.ts';
import type { SessionRecord, Store } from './store.ts';
import type { CheckService, SessionMetrics } from './types.ts';

export interface SessionStarter {
  provision(live: Live): Promise<void>;
  startRuntime(live: Live): Promise<void>;
  /** Stores results (a pass is never downgraded) and tells the page. Returns what was stored. */
  recordResults(live: Live, views: CheckView[], asked?: boolean): Promise<CheckView[]>;
}

export function createSessionStarter(deps: {
  store: Pick<Store, 'saveSandboxes'>;
  driver: SandboxDriver;
  provisioner: Provisioner;
  recorder: ProgressRecorder;
  checks: CheckService;
  timers: Timers;
  spawnPty(socketPath: string, cols: number, rows: number): PtyProcess;
  shellWire?(ref: SandboxRef): { spawn(cols: number, rows: number): PtyProcess; ensureShell(): Promise<void> };
  scrollbackFile(sessionId: string, node: number): string;
  metrics?: SessionMetrics;
  observer?: { results(s: { learnerId: string; labId: string }, views: CheckView[], asked: boolean): void };
  /** True once the manager is disposed: nothing more is started. */
  stopped(): boolean;
  setPhase(live: Live, phase: SessionRecord['phase'], message: string | undefined): void;
  fail(live: Live, message: string): void;
  log(msg: string, err?: unknown): void;
}): SessionStarter {
  const { driver, log } = deps;

  const recordResults = async (live: Live, views: CheckView[], asked = false): Promise<CheckView[]> => {
    const { merged, changed } = await deps.recorder.record(live.rec.learnerId, live.rec.labId, views);
    deps.observer?.results(live.rec, merged, asked);
    if (changed.length) for (const l of live.listeners) l.checks(changed);
    return merged;
  };

  const startRuntime = async (live: Live): Promise<void> => {
    // Read before any terminal starts, so a check poked by the first prompt knows what already passed.
    const stored = live.lab.steps.some((s) => s.checks.length > 0) ? await deps.recorder.progress(live.rec.learnerId, live.rec.labId) : [];
    const sid = live.rec.id;
    live.runtime = createSessionRuntime({
      sessionId: sid, lab: live.lab, refs: live.refs, timers: deps.timers, checks: deps.checks, log,
      wire: (ref) => deps.shellWire?.(ref) ?? { spawn: (c: number, r: number) => deps.spawnPty(ref.terminalSocket, c, r), ensureShell: () => driver.ensureShell(ref) },
      scrollbackFile: (node) => deps.scrollbackFile(sid, node),
      passed: stored.filter((p) => p.status === 'pass').map((p) => p.id),
      record: (views) => recordResults(live, views),
      terminalBytes: (n) => deps.metrics?.terminalBytes(n),
      terminalEcho: (ms) => deps.metrics?.terminalEcho(ms),
    });
  };

  const provision = async (live: Live): Promise<void> => {
    const { rec, lab } = live;
    deps.setPhase(live, 'starting', undefined);
    const going = () => !deps.stopped() && live.rec.phase === 'starting'; // not ended or expired meanwhile
    try {
      await deps.provisioner.provision({
        sessionId: rec.id, createdAt: rec.createdAt, lab, aliases: live.aliases,
        onRefs: async (refs) => {
          live.refs = refs;
          await deps.store.saveSandboxes(rec.id, refs);
        },
        onProgress: (m) => live.rec.phase === 'starting' && deps.setPhase(live, 'starting', m),
      });
      if (!going()) return;
      await startRuntime(live);
      if (!going()) return;
      deps.setPhase(live, 'ready', undefined);
      log(`session ${rec.id}: ready on ${live.refs.map((r) => `sandbox ${r.id} (node${r.node})`).join(', ')}`);
    } catch (err) {
      log(`session ${rec.id}: sandbox failed to start`, err);
      // A missing lab image has a message for the author (in the log) and a shorter one for the learner.
      const learner = (err as { learnerMessage?: unknown }).learnerMessage;
      const why = typeof learner === 'string' ? learner : err instanceof AppError ? err.message : 'The sandbox could not start.';
      deps.fail(live, `${why} Reload the page to try again.`);
    }
  };

  return { provision, startRuntime, recordResults };
}
