// Fresh sandboxes for one lab run, and a ledger of everything created so it can all be removed,
// even when the run fails or is interrupted (Ctrl-C): known refs first, then anything else the
// driver still lists for this process's owner id (a create that was in flight).
import type { SandboxDriver, SandboxRef } from '../../sandbox/driver/types.ts';
import type { Lab } from '../labs/types.ts';
import { AUTOPILOT } from './tuning.ts';

export interface LabSandboxes {
  sessionId: string;
  /** refs[i] is terminal i+1's sandbox. */
  refs: SandboxRef[];
  /** Destroys this lab's sandboxes and network. Idempotent. */
  dispose(): Promise<void>;
}

export interface SandboxLedger {
  open(lab: Lab, now: number): Promise<LabSandboxes>;
  /** Removes everything still alive. Safe to call more than once and concurrently with open(). */
  disposeAll(): Promise<void>;
}

export function createSandboxLedger(driver: SandboxDriver, log: (msg: string, err?: unknown) => void): SandboxLedger {
  const live = new Map<string, SandboxRef>();
  const sessions = new Set<string>();
  const pending = new Set<Promise<unknown>>();
  let seq = 0;

  async function destroy(ref: SandboxRef): Promise<void> {
    try {
      await driver.destroy(ref);
    } catch (err) {
      // Keep going: one stuck sandbox must not keep the others alive; its label lets the server's reaper finish it.
      log(`could not destroy sandbox ${ref.id} (node${ref.node})`, err);
    }
    live.delete(ref.id);
  }

  async function closeSession(sessionId: string): Promise<void> {
    await Promise.all([...live.values()].filter((r) => r.sessionId === sessionId).map(destroy));
    try {
      await driver.removeSessionNetwork(sessionId);
    } catch (err) {
      log(`could not remove the network of ${sessionId}`, err);
    }
    sessions.delete(sessionId);
  }

  return {
    async open(lab, now) {
      const sessionId = `verify-${process.pid}-${++seq}-${lab.id}`.slice(0, 60);
      sessions.add(sessionId);
      const images = lab.images.filter((i) => i !== 'scratch');
      const track = <T>(p: Promise<T>): Promise<T> => {
        pending.add(p);
        void p.then(() => pending.delete(p), () => pending.delete(p));
        return p;
      };
      try {
        const network = await track(driver.createSessionNetwork(sessionId));
        const created = await Promise.allSettled(
          Array.from({ length: lab.terms }, (_, i) =>
            track(driver.create({
              sessionId, node: i + 1, images, assetsDir: lab.assetsDir, network,
              limits: { ...AUTOPILOT.limits }, expiresAt: now + AUTOPILOT.sandboxTtlMs,
            })).then((ref) => {
              live.set(ref.id, ref);
              return ref;
            }),
          ),
        );
        const failed = created.find((c): c is PromiseRejectedResult => c.status === 'rejected');
        if (failed) throw failed.reason;
        const refs = created.map((c) => (c as PromiseFulfilledResult<SandboxRef>).value).sort((a, b) => a.node - b.node);
        await track(Promise.all(refs.map((r) => driver.waitReady(r, { images, timeoutMs: AUTOPILOT.readyTimeoutMs }))));
        return { sessionId, refs, dispose: () => closeSession(sessionId) };
      } catch (err) {
        await closeSession(sessionId);
        throw err;
      }
    },

    async disposeAll() {
      // A create still in flight would leave a container behind; let it land (bounded), then remove it.
      await Promise.race([Promise.allSettled([...pending]), new Promise((r) => setTimeout(r, 30_000).unref())]);
      await Promise.all([...live.values()].map(destroy));
      try {
        // This process's owner id is unique to it, so everything listed is ours.
        await Promise.all((await driver.list()).map(destroy));
      } catch (err) {
        log('could not list leftover sandboxes', err);
      }
      await Promise.all([...sessions].map(closeSession));
    },
  };
}
