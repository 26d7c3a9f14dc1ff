// Durable state: learners' sessions, their sandboxes, check progress and the leases that let one
// replica act for all. One async interface, two stores: SQLite (embedded, the default) and
// PostgreSQL (DATABASE_URL, shared by replicas). Both pass store.test.ts.
import type { SandboxRef } from '../../sandbox/driver/types.ts';
import type { CheckView, SessionPhase } from '../protocol/realtime.ts';
import type { CapRefusal, SessionCaps } from './caps.ts';

export interface SessionRecord {
  id: string;
  learnerId: string;
  labId: string;
  phase: SessionPhase;
  createdAt: number;
  expiresAt: number;
  /** Why the session is in its phase, for the learner ("expired after 4 hours"). */
  message?: string;
}

export interface ProgressRow extends CheckView {
  labId: string;
  updatedAt: number;
}

export interface Store {
  secret(): Promise<string>;
  /** The cookie secret an older version kept here, removed as it is read (it moves to a 0600 file). */
  takeLegacySecret(): Promise<string | undefined>;
  saveSession(s: SessionRecord): Promise<void>;
  /**
   * Inserts a new session unless its learner, or its address, already has `caps` live sessions: the
   * count and the insert are one atomic step (every replica's sessions included). The refusal says which.
   */
  createSession(s: SessionRecord, caps: SessionCaps): Promise<CapRefusal | undefined>;
  session(id: string): Promise<SessionRecord | undefined>;
  /** The learner's newest session for a lab that is still queued, starting or ready. */
  liveSessionFor(learnerId: string, labId: string): Promise<SessionRecord | undefined>;
  liveSessions(): Promise<SessionRecord[]>;
  recentSessions(limit: number): Promise<SessionRecord[]>;
  saveSandboxes(sessionId: string, refs: SandboxRef[]): Promise<void>;
  sandboxes(sessionId: string): Promise<SandboxRef[]>;
  saveProgress(learnerId: string, labId: string, views: CheckView[], now: number): Promise<void>;
  progress(learnerId: string, labId: string): Promise<ProgressRow[]>;
  /** Sets a learner's values of a lab's variables (others they set before are kept). */
  saveVariables(learnerId: string, labId: string, values: Record<string, string>, now: number): Promise<void>;
  /** Every value the learner set in the lab. */
  variables(learnerId: string, labId: string): Promise<Record<string, string>>;
  /** Every progress row of a lab, for the host's view. */
  labProgress(labId: string): Promise<(ProgressRow & { learnerId: string })[]>;
  /**
   * Takes or renews the lease `name` for `holder` until now + ttlMs, in one atomic statement.
   * True when `holder` holds it afterwards: it was free, expired, or already `holder`'s.
   */
  takeLease(name: string, holder: string, ttlMs: number, now: number): Promise<boolean>;
  /** Gives the lease up early (a clean shutdown), if `holder` holds it. */
  releaseLease(name: string, holder: string): Promise<void>;
  close(): Promise<void>;
}

export const LIVE_PHASES = ['queued', 'starting', 'ready'] as const;

/** Row shapes both SQL stores read back, and their mapping to our types. */
export interface SessionRow { id: string; learner_id: string; lab_id: string; phase: string; created_at: number; expires_at: number; message: string | null }
export interface ProgressDbRow { learner_id: string; lab_id: string; check_id: string; step_id: string; status: string; message: string; actual: string | null; expected: string | null; updated_at: number }

export function toSession(r: SessionRow): SessionRecord {
  return { id: r.id, learnerId: r.learner_id, labId: r.lab_id, phase: r.phase as SessionPhase, createdAt: Number(r.created_at), expiresAt: Number(r.expires_at), message: r.message ?? undefined };
}

export function toProgress(r: ProgressDbRow): ProgressRow & { learnerId: string } {
  return {
    learnerId: r.learner_id, labId: r.lab_id, id: r.check_id, stepId: r.step_id, status: r.status as CheckView['status'],
    message: r.message, actual: r.actual ?? undefined, expected: r.expected ?? undefined, updatedAt: Number(r.updated_at),
  };
}

export const isPostgresUrl = (target: string): boolean => /^postgres(ql)?:\/\//.test(target);

/** A PostgreSQL URL opens PostgreSQL; anything else is a SQLite file (or ':memory:'). */
export async function openStore(target: string): Promise<Store> {
  if (isPostgresUrl(target)) return (await import('./pg-store.ts')).openPgStore(target);
  return (await import('./sqlite-store.ts')).openSqliteStore(target);
}
