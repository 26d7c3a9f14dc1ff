// A learner's values of a lab's variables ($$name$$). Kept in the session store per learner and lab,
// like progress: a reload, a second tab, another replica and a fresh sandbox all see the same values.
// Only variables the lab declares are read or written, and every value passes the shared rules.
import { AppError } from '../errors.ts';
import type { Lab } from '../labs/types.ts';
import { checkAssignments, type VariableValues } from '../protocol/variables.ts';
import type { Store } from './store.ts';

export interface LabVariables {
  /** The lab's defaults, overlaid with what the learner set. Empty for a lab without variables. */
  values(learnerId: string, labId: string): Promise<VariableValues>;
  /** Checks and stores the learner's values; answers with all of them. Bad input is an AppError that says why. */
  set(learnerId: string, labId: string, values: unknown): Promise<VariableValues>;
}

export function createLabVariables(deps: { store: Pick<Store, 'saveVariables' | 'variables'>; lab(id: string): Lab | undefined; now(): number }): LabVariables {
  const values = async (learnerId: string, labId: string): Promise<VariableValues> => {
    const declared = deps.lab(labId)?.variables ?? {};
    if (Object.keys(declared).length === 0) return {};
    const mine = await deps.store.variables(learnerId, labId);
    return Object.fromEntries(Object.entries(declared).map(([name, d]) => [name, Object.hasOwn(mine, name) ? mine[name]! : d]));
  };
  return {
    values,
    async set(learnerId, labId, given) {
      const lab = deps.lab(labId);
      if (!lab) throw new AppError('not_found', `There is no lab called "${labId.slice(0, 100)}".`);
      const r = checkAssignments(given, Object.keys(lab.variables ?? {}));
      if (!r.ok) throw new AppError('bad_request', r.message);
      await deps.store.saveVariables(learnerId, labId, r.values, deps.now());
      return values(learnerId, labId);
    },
  };
}
