// Pure rules of a session's life: capacity, queue order, expiry, extension. No I/O.
import type { SessionPhase } from '../protocol/realtime.ts';

export interface SessionLike {
  id: string;
  phase: SessionPhase;
  createdAt: number;
  expiresAt: number;
  /** Sandboxes this session needs (the lab's `terms`). */
  sandboxes: number;
  /**
   * Arrival order on this replica, to break ties between sessions created in the same millisecond.
   * 0 for all when replicas share the queue: their arrival counters differ, the ids do not.
   */
  seq: number;
}

export function isLive(phase: SessionPhase): boolean {
  return phase === 'queued' || phase === 'starting' || phase === 'ready';
}

/** Sandboxes in use: every session that is starting or ready holds its full count. */
export function sandboxesInUse(sessions: Iterable<SessionLike>): number {
  let n = 0;
  for (const s of sessions) if (s.phase === 'starting' || s.phase === 'ready') n += s.sandboxes;
  return n;
}

/** Queued sessions in the order they will be served (first come, first served; then arrival, then id). */
export function queueOrder(sessions: Iterable<SessionLike>): SessionLike[] {
  return [...sessions].filter((s) => s.phase === 'queued').sort((a, b) => a.createdAt - b.createdAt || a.seq - b.seq || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * Which queued sessions may start now. Strict FIFO: a large session at the head is not
 * overtaken by smaller ones behind it, so nobody waits forever.
 */
export function admit(sessions: SessionLike[], maxSandboxes: number): string[] {
  let free = maxSandboxes - sandboxesInUse(sessions);
  const out: string[] = [];
  for (const s of queueOrder(sessions)) {
    if (s.sandboxes > free) break;
    free -= s.sandboxes;
    out.push(s.id);
  }
  return out;
}

/** 1-based queue position, or undefined when not queued. */
export function queuePosition(sessions: SessionLike[], id: string): { position: number; length: number } | undefined {
  const q = queueOrder(sessions);
  const i = q.findIndex((s) => s.id === id);
  return i === -1 ? undefined : { position: i + 1, length: q.length };
}

/** New expiry after "extend": `extendMs` more (counted from now if already past), never past createdAt + maxMs. */
export function extendedExpiry(s: { createdAt: number; expiresAt: number }, now: number, extendMs: number, maxMs: number): number {
  const cap = s.createdAt + maxMs;
  return Math.min(cap, Math.max(s.expiresAt, now) + extendMs);
}

export function canExtend(s: { createdAt: number; expiresAt: number }, maxMs: number): boolean {
  return s.expiresAt < s.createdAt + maxMs;
}
