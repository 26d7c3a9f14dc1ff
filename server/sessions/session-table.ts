// The sessions this replica serves, in memory, and the ones it ended lately (so the page can still be
// told why they ended). Lookups only: phases and side effects stay with the manager.
import type { SandboxRef } from '../../sandbox/driver/types.ts';
import type { Lab } from '../labs/types.ts';
import type { SessionLike } from './lifecycle.ts';
import type { SessionRuntime } from './runtime.ts';
import type { SessionRecord } from './store.ts';
import type { SessionEvents } from './types.ts';

export interface Live {
  rec: SessionRecord;
  seq: number;
  lab: Lab;
  refs: SandboxRef[];
  /** Terminals and checks, while the session is ready on this replica. */
  runtime?: SessionRuntime;
  listeners: Set<SessionEvents>;
  /** Since when nobody has listened (no socket on this replica); undefined while someone does. */
  unwatchedSince?: number;
  provisioning?: Promise<void>;
  /** Synthetic session ids its sandboxes or network carry (a pool unit's, a pre-made network's). */
  aliases: Set<string>;
}

const ENDED_KEPT = 1000;

export class SessionTable {
  private readonly live = new Map<string, Live>();
  private readonly ended = new Map<string, SessionRecord>();
  private seq = 0;

  add(rec: SessionRecord, lab: Lab): Live {
    const live: Live = { rec, lab, seq: this.seq++, refs: [], listeners: new Set(), aliases: new Set() };
    this.live.set(rec.id, live);
    return live;
  }

  /** No longer live here; its record stays readable through endedRecord(). */
  remove(live: Live): void {
    this.live.delete(live.rec.id);
    this.ended.set(live.rec.id, live.rec);
    if (this.ended.size > ENDED_KEPT) this.ended.delete(this.ended.keys().next().value!);
  }

  get(id: string): Live | undefined {
    return this.live.get(id);
  }

  endedRecord(id: string): SessionRecord | undefined {
    return this.ended.get(id);
  }

  all(): Live[] {
    return [...this.live.values()];
  }

  /** The learner's newest live session for a lab. */
  find(learnerId: string, labId: string): Live | undefined {
    let found: Live | undefined;
    for (const l of this.live.values()) if (l.rec.learnerId === learnerId && l.rec.labId === labId && (!found || l.rec.createdAt >= found.rec.createdAt)) found = l;
    return found;
  }

  likes(): SessionLike[] {
    return this.all().map((l) => ({ id: l.rec.id, phase: l.rec.phase, createdAt: l.rec.createdAt, expiresAt: l.rec.expiresAt, sandboxes: l.lab.terms, seq: l.seq }));
  }

  /** A sandbox label's session id belongs to a live session here, or to one its sandboxes adopted. */
  owns(sid: string): boolean {
    if (this.live.has(sid)) return true;
    for (const l of this.live.values()) if (l.aliases.has(sid)) return true;
    return false;
  }

  clear(): void {
    this.live.clear();
  }
}
