// The workshop service: events and their participants joined with live sessions and progress —
// the instructor's grid, the host's summary, pre-warming the pool for an event's head count.
import { TUNING } from '../config.ts';
import type { Lab } from '../labs/types.ts';
import type { WarmPool } from '../pool/warm-pool.ts';
import type { SessionManager } from '../sessions/manager.ts';
import type { ProgressRow, SessionRecord, Store } from '../sessions/store.ts';
import type { EventStore } from './event-store.ts';
import type { HostRow } from '../http/pages.ts';
import { gridFor, type EventInput, type GridLab, type WorkshopEvent } from './event-rules.ts';

export interface WorkshopDeps {
  events: EventStore;
  lab(id: string): Lab | undefined;
  labs(): Lab[];
  sessions: SessionManager;
  store: Store;
  pool: WarmPool;
  now(): number;
  log(msg: string, err?: unknown): void;
}

export interface Workshop {
  readonly events: EventStore;
  createEvent(input: EventInput): Promise<WorkshopEvent>;
  eventList(): Promise<(WorkshopEvent & { joined: number })[]>;
  labTitle(id: string): string | undefined;
  /** One grid per lab of the event: its participants × the lab's steps. */
  grid(eventId: string): Promise<GridLab[]>;
  hostSummary(): Promise<{
    labs: { id: string; title: string }[];
    stats: ReturnType<SessionManager['stats']>;
    pool: { idleSandboxes: number; targetSandboxes: number };
    sessions: HostRow[];
  }>;
  /** Learners with a live session in one of its labs, per event that has not ended. */
  activeLearners(): Promise<{ event: string; learners: number }[]>;
  /** Re-reads the events (another process or replica may have added some) and pre-warms for them. */
  prewarmAll(): Promise<void>;
  /** Whether the learner has a live session in the lab on any replica (the shared store's view). */
  hasLiveSession(learnerId: string, labId: string): Promise<boolean>;
  /** The display name a learner gave in the events they joined. */
  nameOf(learnerId: string): Promise<string | undefined>;
}

/** How long after an event's start the pool keeps its raised size: latecomers arrive in the first half hour. */
const PREWARM_AFTER_START_MS = 30 * 60_000;

export function createWorkshop(deps: WorkshopDeps): Workshop {
  const runnable = (id: string) => {
    const lab = deps.lab(id);
    return lab && lab.problems.length === 0 ? lab : undefined;
  };

  function prewarm(ev: WorkshopEvent): void {
    if (ev.endsAt <= deps.now()) return;
    // Everyone starts with the first lab: that is where the morning rush lands.
    const lab = runnable(ev.labs[0]!);
    if (!lab || lab.terms === 0) return;
    const count = Math.min(ev.expected, ev.capacity ?? ev.expected);
    deps.pool.boost(`event:${ev.id}`, { images: lab.images.filter((i) => i !== 'scratch'), terms: lab.terms }, count, ev.startsAt - TUNING.eventPrewarmLeadMs, Math.min(ev.endsAt, ev.startsAt + PREWARM_AFTER_START_MS));
  }

  /**
   * Live sessions from the store, not this replica's memory: with replicas the learner's session may
   * be served by another one. Keyed by learner and lab.
   */
  async function liveByLearnerLab(): Promise<Map<string, SessionRecord>> {
    const live = new Map<string, SessionRecord>();
    // Oldest first, so the newest live session of a learner in a lab wins, as liveSessionFor has it.
    for (const s of await deps.store.liveSessions()) live.set(`${s.learnerId}\n${s.labId}`, s);
    return live;
  }

  async function nameOf(learnerId: string): Promise<string | undefined> {
    for (const e of await deps.events.eventsOf(learnerId)) {
      const name = (await deps.events.participant(e.id, learnerId))?.name;
      if (name) return name;
    }
    return undefined;
  }

  /** Sandboxes and sessions by phase across every replica (the store's view), against the shared MAX_SANDBOXES. */
  async function sharedStats(): Promise<ReturnType<SessionManager['stats']>> {
    const counts = { sandboxes: 0, ready: 0, starting: 0, queued: 0, max: deps.sessions.stats().max };
    for (const s of await deps.store.liveSessions()) {
      if (s.phase === 'ready' || s.phase === 'starting' || s.phase === 'queued') counts[s.phase]++;
      if (s.phase === 'ready' || s.phase === 'starting') counts.sandboxes += deps.lab(s.labId)?.terms ?? 1;
    }
    return counts;
  }

  async function grid(eventId: string): Promise<GridLab[]> {
    const ev = await deps.events.event(eventId);
    if (!ev) return [];
    const participants = await deps.events.participants(ev.id);
    const live = await liveByLearnerLab();
    const out: GridLab[] = [];
    for (const labId of ev.labs) {
      const lab = deps.lab(labId);
      if (!lab) continue;
      // One query per lab rather than one per participant.
      const byLearner = new Map<string, ProgressRow[]>();
      for (const row of await deps.store.labProgress(labId)) byLearner.set(row.learnerId, [...(byLearner.get(row.learnerId) ?? []), row]);
      out.push(gridFor({
        lab: { id: lab.id, title: lab.title, steps: lab.steps.map((s) => ({ id: s.id, title: s.title, checks: s.checks.map((c) => c.id) })) },
        participants,
        session: (learnerId) => live.get(`${learnerId}\n${labId}`),
        progress: (learnerId) => byLearner.get(learnerId) ?? [],
        now: deps.now(),
      }));
    }
    return out;
  }

  /** Every live session on any replica, in an event or not: who is on which step, and since when. */
  async function sessionRows(): Promise<HostRow[]> {
    const now = deps.now();
    const min = (ms: number) => Math.max(0, Math.round(ms / 60_000));
    return Promise.all((await deps.store.liveSessions()).map(async (s) => {
      const lab = deps.lab(s.labId);
      const prog = await deps.store.progress(s.learnerId, s.labId);
      const passedIds = new Set(prog.filter((p) => p.status === 'pass').map((p) => p.id));
      const steps = lab?.steps ?? [];
      const current = steps.find((st) => st.checks.some((c) => !passedIds.has(c.id)));
      const lastPass = prog.filter((p) => p.status === 'pass').reduce((m, p) => Math.max(m, p.updatedAt), 0);
      const name = await nameOf(s.learnerId);
      return {
        learner: name ?? s.learnerId.slice(0, 8),
        lab: lab?.title ?? s.labId,
        phase: s.phase,
        startedMinutesAgo: min(now - s.createdAt),
        minutesLeft: min(s.expiresAt - now),
        currentStep: current ? current.title : steps.length ? 'all steps done' : '—',
        passed: passedIds.size,
        total: steps.reduce((n, st) => n + st.checks.length, 0),
        lastPassMinutesAgo: lastPass ? min(now - lastPass) : null,
      };
    }));
  }

  const workshop: Workshop = {
    events: deps.events,
    async createEvent(input) {
      const ev = await deps.events.createEvent(input, deps.now());
      deps.log(`event "${ev.name}" created: code ${ev.code}, ${ev.expected} expected`);
      prewarm(ev);
      return ev;
    },
    eventList: async () => Promise.all((await deps.events.events()).map(async (e) => ({ ...e, joined: (await deps.events.participants(e.id)).length }))),
    labTitle: (id) => deps.lab(id)?.title,
    grid,
    async hostSummary() {
      const p = deps.pool.stats();
      return {
        labs: deps.labs().filter((l) => l.problems.length === 0).map((l) => ({ id: l.id, title: l.title })),
        stats: await sharedStats(),
        pool: { idleSandboxes: p.idleSandboxes, targetSandboxes: p.targetSandboxes },
        sessions: await sessionRows(),
      };
    },
    async activeLearners() {
      const now = deps.now();
      const running = (await deps.events.events()).filter((e) => e.endsAt > now && e.startsAt - TUNING.eventPrewarmLeadMs <= now);
      if (!running.length) return [];
      const live = await liveByLearnerLab();
      return Promise.all(running.map(async (e) => ({
        event: e.code,
        learners: (await deps.events.participants(e.id)).filter((p) => e.labs.some((l) => live.has(`${p.learnerId}\n${l}`))).length,
      })));
    },
    async prewarmAll() {
      for (const ev of await deps.events.events()) prewarm(ev);
    },
    nameOf,
    hasLiveSession: async (learnerId, labId) => !!(await deps.store.liveSessionFor(learnerId, labId)),
  };
  return workshop;
}
