// Progress only moves forward: once a check passed, a later failing evaluation doesn't take the tick away
// (the learner may delete the image in a clean-up step). The server stores what these return.
import type { CheckResult, CheckStatus } from './types.ts';

/** The result to keep when `next` arrives for a check whose stored result is `previous`. */
export function mergeResult(previous: CheckResult | undefined, next: CheckResult): CheckResult {
  if (previous?.status === 'pass' && next.status !== 'pass') return previous;
  return next;
}

/** A step passes when all its checks passed; fails when any failed; else pending. A step without checks is pending. */
export function stepStatus(results: readonly (CheckResult | undefined)[]): CheckStatus {
  if (results.length === 0) return 'pending';
  if (results.every((r) => r?.status === 'pass')) return 'pass';
  if (results.some((r) => r?.status === 'fail')) return 'fail';
  return 'pending';
}
