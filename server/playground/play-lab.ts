// The playground as the session manager sees it: a lab with no text and no checks whose node count
// the learner changes while it runs. Every session gets its own copy (its `terms` is its node count).
import type { Lab } from '../labs/types.ts';

/** The lab id of playground sessions; no lab folder may take it (lab ids come from folder names). */
export const PLAY_LAB_ID = 'play';

export function playLab(opts: { maxNodes: number; images: string[] }): Lab {
  return {
    id: PLAY_LAB_ID,
    file: '',
    title: 'Playground',
    description: 'A free session: add nodes, build a swarm, run anything.',
    tags: [],
    images: [...opts.images],
    terms: 1,
    meta: {},
    steps: [],
    html: '',
    problems: [],
    playground: { maxNodes: opts.maxNodes },
  };
}

/** The node number a new node takes: the lowest one free. */
export function nextNode(nodes: number[], maxNodes: number): number | undefined {
  for (let n = 1; n <= maxNodes; n++) if (!nodes.includes(n)) return n;
  return undefined;
}
