// Per-render data shared by the markdown-it rules of a lab (markdown.ts, html.ts). It travels in
// env.lab so one configured markdown-it instance serves every render.
import type { Env, Token } from 'markdown-it';
import type { LabStep } from './types.ts';

export interface Note {
  line: number;
  message: string;
}

/** Where a lab's own pictures live: absent for a bare render (previews, fixtures), which checks nothing. */
export interface LabAssets {
  /** Does this path (relative to the lab folder, "/"-separated, decoded) exist? */
  exists(relPath: string): boolean;
  /** URL prefix the lab's files are served under, ending in "/", e.g. "/labs/my-lab/assets/". */
  base?: string;
}

export interface LabRenderState {
  /** Lines of the source (LF), for checks markdown-it does not expose (unterminated fences). */
  lines: string[];
  terms: number;
  /** Errors: the lab is broken. */
  problems: Note[];
  /** Authoring nits the renderer worked around: the lab still runs. */
  warnings: Note[];
  steps: LabStep[];
  assets?: LabAssets;
  firstHeading?: string;
  /** The lab's variables and their defaults (front matter variables:); undefined when it has none. */
  variables?: Record<string, string>;
}

export function newRenderState(src: string, terms: number, assets?: LabAssets): LabRenderState {
  const st: LabRenderState = { lines: src.split('\n'), terms, problems: [], warnings: [], steps: [] };
  if (assets) st.assets = assets;
  return st;
}

export function labState(env: Env | undefined): LabRenderState {
  const s = env?.lab as LabRenderState | undefined;
  if (!s) throw new Error('lab markdown needs env.lab (use renderMarkdown)');
  return s;
}

/** The line inside a multi-line block where `needle` appears (falls back to `fallback`). */
export function lineOfText(block: Token, st: LabRenderState, needle: string, fallback: number): number {
  if (!block.map) return fallback;
  for (let l = block.map[0]; l < block.map[1]; l++) if (st.lines[l]?.includes(needle)) return l + 1;
  return fallback;
}
