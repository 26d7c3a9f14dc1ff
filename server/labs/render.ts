// One lab file in, everything the server needs out. Pure: the only outside knowledge is the
// optional `assetExists` callback, so an instructor's preview and the loader share this code.
import type { Env } from 'markdown-it';
import type { Lab, LabProblem } from './types.ts';
import { splitFrontMatter } from './frontmatter.ts';
import { createLabMarkdown, newRenderState } from './markdown.ts';
import { cleanPath, isLocal } from './assets.ts';
import { PLACEHOLDER_CHARS } from './html.ts';
import { resolveLiquid } from './liquid.ts';
import { alignListFences } from './kramdown-fences.ts';
import type { LabAssets } from './state.ts';
import { markVariables, readVariables } from './variables.ts';
import { substituteVariables } from '../protocol/variables.ts';

export interface RenderOptions {
  /** Name used in problems, e.g. "03-multi-stage/lab.md". */
  file?: string;
  /** Title when neither front matter nor a heading gives one. */
  fallbackTitle?: string;
  /** Does this path (relative to the lab folder, "/"-separated) exist? Omit to skip asset checks. */
  assetExists?: (relPath: string) => boolean;
  /** URL prefix the lab folder's pictures are served under, ending in "/" (e.g. "/labs/my-lab/assets/"). */
  assetBase?: string;
}

/** Everything a lab is, except where it came from (id, file, assets folder). */
export type RenderedLab = Omit<Lab, 'id' | 'file' | 'assetsDir' | 'warnings'> & { warnings: LabProblem[] };

// Stateless once configured (per-render data travels in env), so one instance serves all renders.
const md = createLabMarkdown();

export function renderMarkdown(source: string, opts: RenderOptions = {}): RenderedLab {
  const file = opts.file ?? 'lab.md';
  // Normalise first so every line number below is a line of the file as the author sees it.
  // The private-use characters html.ts uses as placeholders have no business in a lab.
  const src = source.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n').replace(PLACEHOLDER_CHARS, '');
  const { fm, body: rawBody, problems: fmProblems } = splitFrontMatter(src);
  const liquid = resolveLiquid(rawBody);
  // kramdown's reading of a fence left of its list item, before markdown-it sees the text.
  const kramdown = alignListFences(liquid.src);
  const body = kramdown.src;
  let assets: LabAssets | undefined;
  if (opts.assetExists) assets = opts.assetBase !== undefined ? { exists: opts.assetExists, base: opts.assetBase } : { exists: opts.assetExists };
  const state = newRenderState(body, fm.terms, assets);
  const vars = readVariables(fm.meta.variables);
  if (vars.defaults) state.variables = vars.defaults;
  const env: Env = { lab: state };
  let html = '';
  try {
    html = md.render(body, env);
    if (vars.defaults) {
      html = markVariables(html, vars.defaults);
      // What the autopilot types: the defaults, as a learner who set nothing sees them.
      for (const s of state.steps) for (const b of s.blocks) b.code = substituteVariables(b.code, vars.defaults);
    }
  } catch (e) {
    // A renderer bug must show as a broken lab, not take the server down.
    state.problems.push({ line: 1, message: `could not render this lab: ${(e as Error).message}` });
  }
  const problems: LabProblem[] = [...fmProblems, ...state.problems].map((p) => ({ file, line: p.line, message: p.message }));
  if (opts.assetExists) {
    // Front-matter assets are files the lab's commands need: without them the lab cannot work.
    for (const a of fm.assets) {
      if (!isLocal(a.path) || !opts.assetExists(cleanPath(a.path))) problems.push({ file, line: a.line, message: `asset "${a.path}" is not in the lab folder` });
    }
  }
  problems.sort((a, b) => a.line - b.line);
  const warnings: LabProblem[] = [...vars.warnings, ...liquid.warnings, ...kramdown.warnings, ...state.warnings].map((p) => ({ file, line: p.line, message: p.message }));
  warnings.sort((a, b) => a.line - b.line);
  const out: RenderedLab = {
    title: fm.title ?? state.firstHeading ?? opts.fallbackTitle ?? file.replace(/\.(md|markdown)$/i, ''),
    description: fm.description ?? '',
    tags: fm.tags,
    images: fm.images,
    terms: fm.terms,
    meta: fm.meta,
    html,
    steps: state.steps,
    problems,
    warnings,
  };
  if (vars.defaults) out.variables = vars.defaults;
  if (fm.duration !== undefined) out.duration = fm.duration;
  if (fm.difficulty !== undefined) out.difficulty = fm.difficulty;
  return out;
}

export function formatProblem(p: LabProblem): string {
  return `${p.file}:${p.line}: ${p.message}`;
}

/** As an editor or CI log reads it: "file:line: warning: message". */
export function formatWarning(p: LabProblem): string {
  return `${p.file}:${p.line}: warning: ${p.message}`;
}
