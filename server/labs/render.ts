// One lab file in, everything the server needs out. Pure: the only outside knowledge is the
// optional `assetExists` callback, so an instructor's preview and the loader share this code.
import type { Env } from 'markdown-it';
import type { Lab, LabProblem } from './types.ts';
import { splitFrontMatter } from './frontmatter.ts';
import { createLabMarkdown, newRenderState } from './markdown.ts';

export interface RenderOptions {
  /** Name used in problems, e.g. "03-multi-stage/lab.md". */
  file?: string;
  /** Title when neither front matter nor a heading gives one. */
  fallbackTitle?: string;
  /** Does this path (relative to the lab folder, "/"-separated) exist? Omit to skip asset checks. */
  assetExists?: (relPath: string) => boolean;
}

/** Everything a lab is, except where it came from (id, file, assets folder). */
export type RenderedLab = Omit<Lab, 'id' | 'file' | 'assetsDir'>;

// Stateless once configured (per-render data travels in env), so one instance serves all renders.
const md = createLabMarkdown();

export function renderMarkdown(source: string, opts: RenderOptions = {}): RenderedLab {
  const file = opts.file ?? 'lab.md';
  // Normalise first so every line number below is a line of the file as the author sees it.
  const src = source.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const { fm, body, problems: fmProblems } = splitFrontMatter(src);
  const state = newRenderState(body, fm.terms);
  const env: Env = { lab: state };
  let html = '';
  try {
    html = md.render(body, env);
  } catch (e) {
    // A renderer bug must show as a broken lab, not take the server down.
    state.problems.push({ line: 1, message: `could not render this lab: ${(e as Error).message}` });
  }
  const problems: LabProblem[] = [...fmProblems, ...state.problems].map((p) => ({ file, line: p.line, message: p.message }));
  if (opts.assetExists) {
    for (const a of fm.assets) {
      if (!isLocal(a.path) || !opts.assetExists(clean(a.path))) problems.push({ file, line: a.line, message: `asset "${a.path}" is not in the lab folder` });
    }
    for (const img of state.images) {
      if (isLocal(img.src) && !opts.assetExists(clean(img.src))) problems.push({ file, line: img.line, message: `image "${img.src}" is not in the lab folder` });
    }
  }
  problems.sort((a, b) => a.line - b.line);
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
  };
  if (fm.duration !== undefined) out.duration = fm.duration;
  if (fm.difficulty !== undefined) out.difficulty = fm.difficulty;
  return out;
}

/** A relative path inside the lab folder (not a URL, not absolute, no way out with ".."). */
function isLocal(p: string): boolean {
  if (/^[a-z][a-z0-9+.-]*:/i.test(p) || p.startsWith('/') || p.startsWith('#')) return false;
  return !clean(p).split('/').includes('..');
}

function clean(p: string): string {
  let s = p.split(/[?#]/)[0] ?? p;
  try {
    s = decodeURI(s);
  } catch {
    // Keep the raw path: a malformed escape then simply reads as a missing file.
  }
  return s.replace(/^\.\//, '').replace(/\/+/g, '/');
}

export function formatProblem(p: LabProblem): string {
  return `${p.file}:${p.line}: ${p.message}`;
}
