// The live-session caps (MAX_SESSIONS_PER_LEARNER, MAX_SESSIONS_PER_ADDRESS) as the store applies them:
// counting a learner's (and its address's) live sessions and inserting the new one is one atomic step,
// so two joins at once, on one replica or two, cannot both pass a cap with one place left.
import { AppError } from '../errors.ts';

export interface SessionCaps {
  /** The client address the session comes from (kept with the session). */
  address: string;
  perLearner: number;
  /** Undefined: no per-address cap (a learner who joined a running workshop event by its link). */
  perAddress?: number;
}

export interface CapRefusal {
  cap: 'learner' | 'address';
  /** Live sessions already counted against the cap. */
  count: number;
}

export function capError(r: CapRefusal): AppError {
  return r.cap === 'learner'
    ? new AppError('rate_limited', `You already have ${r.count} labs open, the most one learner may have at once. End one (End session) or wait for it to expire, then open this lab again.`)
    : new AppError('rate_limited', `Your network already has ${r.count} labs open, the most one address may have at once. End a session you no longer use, or ask the workshop host to raise MAX_SESSIONS_PER_ADDRESS.`);
}

/** Pure: which cap, if any, these counts hit. */
export function capRefusal(caps: SessionCaps, learnerCount: number, addressCount: number): CapRefusal | undefined {
  if (learnerCount >= caps.perLearner) return { cap: 'learner', count: learnerCount };
  if (caps.perAddress !== undefined && addressCount >= caps.perAddress) return { cap: 'address', count: addressCount };
  return undefined;
}
