// Progress only moves forward: once a check passed, a later failing evaluation doesn't take the tick away
// (the learner may delete the image in a clean-up step). The session manager stores what this returns.
import type { CheckStatus } from './types.ts';

/** The result to keep when `next` arrives for a check whose stored result is `previous`. */
export function mergeResult<R extends { status: CheckStatus }>(previous: R | undefined, next: R): R {
  if (previous?.status === 'pass' && next.status !== 'pass') return previous;
  return next;
}
