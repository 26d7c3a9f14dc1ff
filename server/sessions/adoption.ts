// Taking a live session from the store into this replica: after a restart (a lone server takes all
// of them back at once) or when a learner whose replica died reconnects here. Re-attaches to its
// sandboxes when they all still run, otherwise queues it for fresh ones; ends it when its lab is gone
// or its time is up.
import type { SandboxRef } from '../../sandbox/driver/types.ts';
import type { Lab } from '../labs/types.ts';
import type { Live } from './session-table.ts';
import type { SessionRecord, Store } from './store.ts';

export interface AdoptionDeps {
  store: Pick<Store, 'sandboxes'>;
  now(): number;
  lab(id: string): Lab | undefined;
  /** Writes a final phase for a session that never became live here. */
  finish(rec: SessionRecord, phase: 'expired' | 'ended', message: string): Promise<void>;
  destroyAll(sessionId: string, refs: SandboxRef[]): Promise<void>;
  track(rec: SessionRecord, lab: Lab): Live;
  startRuntime(live: Live): Promise<void>;
  requeue(live: Live, message: string): void;
  expiredMessage: string;
  log(msg: string, err?: unknown): void;
}

export async function adopt(deps: AdoptionDeps, rec: SessionRecord, running: Set<string>): Promise<Live | undefined> {
  const { store } = deps;
  const lab = deps.lab(rec.labId);
  if (!lab || lab.problems.length > 0) {
    await deps.finish(rec, 'ended', 'This lab is no longer available on this server.');
    return undefined;
  }
  if (rec.expiresAt <= deps.now()) {
    const refs = await store.sandboxes(rec.id);
    await deps.finish(rec, 'expired', deps.expiredMessage);
    void deps.destroyAll(rec.id, refs);
    return undefined;
  }
  const live = deps.track(rec, lab);
  if (rec.phase === 'ready') {
    const refs = await store.sandboxes(rec.id);
    // A playground has as many nodes as it had when it was left.
    if (lab.playground && refs.length > 0) lab.terms = refs.length;
    if (refs.length === lab.terms && refs.every((r) => running.has(r.id))) {
      live.refs = refs;
      for (const r of refs) if (r.sessionId !== rec.id) live.aliases.add(r.sessionId);
      await deps.startRuntime(live);
      // Work may have finished while no server watched (a build that ran through a restart).
      live.runtime?.runner?.poke();
      deps.log(`session ${rec.id}: re-attached to ${refs.length} sandbox(es)`);
      return live;
    }
    await deps.destroyAll(rec.id, refs);
  }
  if (rec.phase === 'starting') {
    // A provision cut short by a restart: whatever it made is half-done; start over.
    await deps.destroyAll(rec.id, await store.sandboxes(rec.id));
  }
  if (rec.phase !== 'queued') deps.requeue(live, 'Restarting your sandbox…');
  return live;
}
