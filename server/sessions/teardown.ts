// Removing what a session had: its sandboxes, its session networks (its own and any alias a pool unit
// or pre-made network brought) and its scrollback files. Failures are logged; the reaper retries.
import path from 'node:path';
import type { SandboxDriver, SandboxRef } from '../../sandbox/driver/types.ts';
import { openScrollbackFile } from '../terminals/scrollback-file.ts';

export interface Teardown {
  scrollbackFile(sessionId: string, node: number): string;
  /** Removes one node's scrollback (a playground node that was removed). */
  forgetScrollback(sessionId: string, node: number): void;
  destroyAll(sessionId: string, refs: SandboxRef[], aliases?: Iterable<string>): Promise<void>;
}

export function createTeardown(deps: { driver: SandboxDriver; dataDir: string; log(msg: string, err?: unknown): void }): Teardown {
  const { driver, log } = deps;
  const scrollbackFile = (sessionId: string, node: number) => path.join(deps.dataDir, 'scrollback', `${sessionId}-${node}.log`);
  return {
    scrollbackFile,
    forgetScrollback: (sessionId, node) => openScrollbackFile(scrollbackFile(sessionId, node), 1).remove(),
    async destroyAll(sessionId, refs, aliases = []) {
      for (const r of refs) openScrollbackFile(scrollbackFile(sessionId, r.node), 1).remove();
      const results = await Promise.allSettled(refs.map((r) => driver.destroy(r)));
      for (const r of results) if (r.status === 'rejected') log(`session ${sessionId}: destroy failed (the reaper will retry)`, r.reason);
      for (const sid of new Set([sessionId, ...aliases, ...refs.map((r) => r.sessionId)])) {
        try {
          await driver.removeSessionNetwork(sid);
        } catch (err) {
          log(`session ${sessionId}: network removal failed (the reaper will retry)`, err);
        }
      }
    },
  };
}
