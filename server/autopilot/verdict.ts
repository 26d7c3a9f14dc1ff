// Pure judgements over check results: a step's positive outcome, the negative proof, a wrong variant's proof.
import type { CheckResult } from '../checks/types.ts';

/** A failure that says something about the learner's work (not a timeout, an engine error or a malformed check). */
export function genuineFail(r: CheckResult): boolean {
  return r.status === 'fail' && r.problem === undefined;
}

export type NegativeVerdict =
  /** At least one check failed for real with the step's blocks skipped. */
  | { kind: 'can-fail'; failing: string[] }
  /** Every check passed without the step's blocks: the step proves nothing the earlier steps didn't. */
  | { kind: 'weak' }
  /** Checks failed, but only for reasons outside the learner's work (timeouts, engine errors): no proof either way. */
  | { kind: 'inconclusive'; problems: string[] }
  | { kind: 'no-checks' };

/** Verdict on a step's checks evaluated with every earlier step done and this one's blocks skipped. */
export function negativeVerdict(withoutBlocks: readonly CheckResult[]): NegativeVerdict {
  if (withoutBlocks.length === 0) return { kind: 'no-checks' };
  const failing = withoutBlocks.filter(genuineFail).map((r) => r.id);
  if (failing.length > 0) return { kind: 'can-fail', failing };
  const problems = withoutBlocks.filter((r) => r.status !== 'pass').map((r) => r.id);
  if (problems.length > 0) return { kind: 'inconclusive', problems };
  return { kind: 'weak' };
}

export function negativeOk(v: NegativeVerdict): boolean {
  return v.kind === 'can-fail' || v.kind === 'no-checks';
}

/** A known-wrong variant is caught when every check it targets fails for real. */
export function variantVerdict(results: readonly CheckResult[], mustFail: readonly string[]): { ok: boolean; passedWrongly: string[]; missing: string[] } {
  const byId = new Map(results.map((r) => [r.id, r]));
  const missing = mustFail.filter((id) => !byId.has(id));
  const passedWrongly = mustFail.filter((id) => byId.has(id) && !genuineFail(byId.get(id)!));
  return { ok: mustFail.length > 0 && missing.length === 0 && passedWrongly.length === 0, passedWrongly, missing };
}
