// A lab as the server sees it once loaded and validated.
import type { CheckSpec } from '../checks/types.ts';
import type { VariableCondition } from '../protocol/variables.ts';

export interface LabProblem {
  /** Path of the file relative to the labs folder, e.g. "multi-stage/lab.md". */
  file: string;
  /** 1-based. */
  line: number;
  message: string;
}

/** A clickable ```.termN block. */
export interface RunBlock {
  /** Unique in the lab, e.g. "b3". */
  id: string;
  /** 1-based terminal index. */
  term: number;
  /** The text to type, exactly as the shell needs it (LF line endings, trailing newline trimmed). */
  code: string;
  line: number;
  /** Ctrl-C goes first, to stop what is running (```.term1 interrupt). */
  interrupt?: boolean;
  /** Typed without Enter: an answer to a prompt the learner finishes (```.term1 no-newline). */
  noNewline?: boolean;
  /**
   * A "Save file" action (```.save path): `code` is written to this path (relative to the
   * working directory) instead of being typed.
   */
  save?: string;
  /** Inside ```when parts: the block is shown (and the autopilot runs it) only while these hold. */
  when?: VariableCondition[];
}

/** One set-up script and the node (terminal) whose sandbox it prepares: ```setup, ```setup node2. */
export interface StepSetup {
  node: number;
  script: string;
}

export interface LabStep {
  /** Unique in the lab, stable across edits of other steps where possible: "s1", "s2", ... */
  id: string;
  index: number;
  title: string;
  line: number;
  blocks: RunBlock[];
  checks: CheckSpec[];
  /**
   * Scripts that prepare the sandboxes for this step (```setup fences, from imported labs' set-up
   * scripts): run once per session, in order, each in its node's sandbox, before the step's first block.
   */
  setup?: StepSetup[];
}

export interface Lab {
  /** URL-safe slug: the folder name (or file name without extension). */
  id: string;
  /** Absolute path of lab.md (or the single .md file). */
  file: string;
  /** Folder whose other files are copied into the sandbox workdir; undefined for single-file labs. */
  assetsDir?: string;
  /** Folder the lab's pictures are served from, when not assetsDir (an imported lab whose project/ seeds the workspace). */
  picturesDir?: string;
  title: string;
  description: string;
  duration?: string;
  difficulty?: string;
  tags: string[];
  /** Images the sandbox preloads. */
  images: string[];
  /** 0..6 terminals (each its own sandbox). */
  terms: number;
  /** The whole front matter, unknown keys kept. */
  meta: Record<string, unknown>;
  steps: LabStep[];
  /** Variables ($$name$$) and their defaults, from the front matter; each learner sets their own values. */
  variables?: Record<string, string>;
  /** Rendered lab body (safe HTML). */
  html: string;
  /** Non-empty means the lab is broken: shown with its errors, not runnable. */
  problems: LabProblem[];
  /**
   * Authoring nits the renderer worked around (Liquid, a missing picture, a fence left open at the
   * end, a ( ) quiz with two right answers): shown to the author, the lab still runs.
   * Optional so hand-made Lab objects (tests, tools) need not spell it out.
   */
  warnings?: LabProblem[];
  /**
   * Set on the playground's own lab (server/playground): its node count changes while it runs, so
   * each session holds its own copy and `terms` is that session's current number of nodes.
   */
  playground?: { maxNodes: number };
}
