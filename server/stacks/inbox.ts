// Stacks a "Try it" link brought, held per learner between the page load (the server fetched it)
// and the playground's first node being ready (the page asks for the deploy). Taken once; forgotten
// after a while so an abandoned link holds nothing.
import type { LoadedStack } from './stack-source.ts';

const KEEP_MS = 15 * 60_000;

export interface StackInbox {
  put(learnerId: string, stack: LoadedStack): void;
  take(learnerId: string): LoadedStack | undefined;
}

export function createStackInbox(now: () => number): StackInbox {
  const held = new Map<string, { stack: LoadedStack; at: number }>();
  return {
    put(learnerId, stack) {
      for (const [k, v] of held) if (now() - v.at > KEEP_MS) held.delete(k);
      held.set(learnerId, { stack, at: now() });
    },
    take(learnerId) {
      const h = held.get(learnerId);
      held.delete(learnerId);
      return h && now() - h.at <= KEEP_MS ? h.stack : undefined;
    },
  };
}
