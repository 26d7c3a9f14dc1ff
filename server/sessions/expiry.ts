// One timer per live session that fires at its expiresAt on the injected clock. A timer that fires
// early (the clock moved, or the expiry was extended meanwhile) re-arms instead of ending the session.
import type { Timers } from '../timers.ts';

export interface ExpiryTimers {
  /** (Re)arms the session's timer for `expiresAt()`, read again when it fires. */
  arm(sessionId: string, expiresAt: () => number): void;
  disarm(sessionId: string): void;
  dispose(): void;
}

/** setTimeout caps at ~24.8 days; sessions are hours long, but clamp anyway. */
const MAX_DELAY = 2 ** 31 - 1;

export function createExpiryTimers(deps: { timers: Timers; expire(sessionId: string): void }): ExpiryTimers {
  const { timers } = deps;
  const armed = new Map<string, unknown>();
  const arm = (sid: string, expiresAt: () => number): void => {
    timers.clearTimeout(armed.get(sid));
    const ms = Math.max(0, expiresAt() - timers.now());
    armed.set(sid, timers.setTimeout(() => {
      armed.delete(sid);
      if (timers.now() >= expiresAt()) deps.expire(sid);
      else arm(sid, expiresAt);
    }, Math.min(ms, MAX_DELAY)));
  };
  return {
    arm,
    disarm(sid) {
      timers.clearTimeout(armed.get(sid));
      armed.delete(sid);
    },
    dispose() {
      for (const h of armed.values()) timers.clearTimeout(h);
      armed.clear();
    },
  };
}
