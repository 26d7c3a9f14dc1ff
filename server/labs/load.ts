// Every lab in a folder: a subfolder with lab.md (its other files are the sandbox workdir),
// or a single .md/.markdown file. A broken lab comes back with its problems, never as a throw;
// only an unreadable labs folder itself throws.
import { killercodaToMarkdown } from './killercoda.ts';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Lab, LabProblem } from './types.ts';
import { renderMarkdown, type RenderOptions } from './render.ts';

export { formatProblem, formatWarning, renderMarkdown } from './render.ts';

/** Names in a labs folder that are documentation, not labs. */
const NOT_LABS = /^(readme|license|contributing|changelog)\.(md|markdown)$/i;
const LAB_FILE = /\.(md|markdown)$/i;
/** A lab folder's markdown file, in order of preference. */
const LAB_MD_NAMES = ['lab.md', 'lab.markdown'];

/** A lab found in the folder, before it is read: its id must be final first (picture URLs carry it). */
interface Found {
  kind: 'markdown' | 'scenario' | 'file';
  /** The lab's own file: lab.md, index.json or the single .md. */
  file: string;
  /** Folder or file name the id and fallback title come from. */
  name: string;
  folder?: string;
  files?: Set<string>;
  id: string;
  /** Set when another lab took the id first. */
  renamedFrom?: string;
}

export async function loadLabs(dir: string): Promise<{ labs: Lab[]; problems: LabProblem[] }> {
  const root = path.resolve(dir);
  const entries = await fs.readdir(root, { withFileTypes: true });
  const found: Found[] = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.name.startsWith('.') || e.name.startsWith('_')) continue;
    const full = path.join(root, e.name);
    if (e.isDirectory()) {
      const files = await listFiles(full);
      const mdName = LAB_MD_NAMES.find((n) => files.has(n));
      if (mdName) found.push({ kind: 'markdown', file: path.join(full, mdName), name: e.name, folder: full, files, id: slug(e.name) });
      else if (files.has('index.json')) found.push({ kind: 'scenario', file: path.join(full, 'index.json'), name: e.name, folder: full, files, id: slug(e.name) });
      // else a folder of images or notes
    } else if (e.isFile() && LAB_FILE.test(e.name) && !NOT_LABS.test(e.name)) {
      const name = e.name.replace(LAB_FILE, '');
      found.push({ kind: 'file', file: full, name, id: slug(name) });
    }
  }
  dedupeIds(found);
  const labs: Lab[] = [];
  for (const f of found) {
    const lab = await loadOne(root, f);
    if (f.renamedFrom) lab.problems.push({ file: toPosix(path.relative(root, f.file)), line: 1, message: `another lab already has the id "${f.renamedFrom}"; this one is served as "${f.id}"` });
    labs.push(lab);
  }
  labs.sort(compareLabs);
  return { labs, problems: labs.flatMap((l) => l.problems) };
}

/** Where a lab's pictures are served: see the assets route in server/http. */
export function labAssetBase(id: string): string {
  return `/labs/${encodeURIComponent(id)}/assets/`;
}

async function loadOne(root: string, f: Found): Promise<Lab> {
  const rel = toPosix(path.relative(root, f.file));
  const source = await readSource(f.file);
  const base = { id: f.id, file: f.file, rel, fallbackTitle: f.name };
  if (f.kind === 'file') {
    // A single-file lab has no folder of its own: nothing it references can be an asset.
    return buildLab(source, { ...base, assetExists: () => false });
  }
  const files = f.files!;
  const inFolder = { ...base, assetExists: (p: string) => files.has(p), assetBase: labAssetBase(f.id) };
  let lab: Lab;
  if (f.kind === 'markdown' || source instanceof Error) lab = buildLab(source, inFolder);
  else {
    // A Killercoda-style scenario (index.json + step files), converted to our lab Markdown.
    const texts = new Map<string, string>();
    for (const p of files) if (/\.(md|markdown|sh)$/i.test(p)) texts.set(p, await fs.readFile(path.join(f.folder!, p), 'utf8'));
    const conv = killercodaToMarkdown(source, (p) => texts.get(p.replace(/^\.\//, '')));
    lab = buildLab(conv.markdown, inFolder);
    lab.problems.unshift(...conv.problems.map((message) => ({ file: rel, line: 1, message })));
  }
  lab.assetsDir = f.folder!;
  return lab;
}

async function readSource(file: string): Promise<string | Error> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (e) {
    return e as Error;
  }
}

function buildLab(
  source: string | Error,
  o: { id: string; file: string; rel: string; fallbackTitle: string; assetExists: (p: string) => boolean; assetBase?: string },
): Lab {
  if (source instanceof Error) {
    return {
      id: o.id, file: o.file, title: o.fallbackTitle, description: '', tags: [], images: [], terms: 1, meta: {}, steps: [], html: '',
      problems: [{ file: o.rel, line: 1, message: `cannot read the file: ${source.message}` }], warnings: [],
    };
  }
  const opts: RenderOptions = { file: o.rel, fallbackTitle: o.fallbackTitle, assetExists: o.assetExists };
  if (o.assetBase !== undefined) opts.assetBase = o.assetBase;
  const r = renderMarkdown(source, opts);
  const lab: Lab = {
    id: o.id, file: o.file, title: r.title, description: r.description, tags: r.tags, images: r.images, terms: r.terms,
    meta: r.meta, steps: r.steps, html: r.html, problems: r.problems, warnings: r.warnings,
  };
  if (r.duration !== undefined) lab.duration = r.duration;
  if (r.difficulty !== undefined) lab.difficulty = r.difficulty;
  return lab;
}

/** Relative "/"-separated paths of every file under `folder` (hidden files skipped). */
async function listFiles(folder: string): Promise<Set<string>> {
  const out = new Set<string>();
  const walk = async (d: string, prefix: string, depth: number): Promise<void> => {
    if (depth > 8) return; // a symlink loop or a vendored tree: the lab's own files are near the top
    for (const e of await fs.readdir(d, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      const rel = prefix + e.name;
      if (e.isDirectory()) await walk(path.join(d, e.name), `${rel}/`, depth + 1);
      else out.add(rel);
    }
  };
  await walk(folder, '', 0);
  return out;
}

function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}

/** URL-safe id from a folder or file name: "01 Normal Build" → "01-normal-build". */
export function slug(name: string): string {
  const s = name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  return s || 'lab';
}

function dedupeIds(found: Found[]): void {
  const seen = new Map<string, number>();
  for (const f of [...found].sort((a, b) => a.file.localeCompare(b.file))) {
    const n = (seen.get(f.id) ?? 0) + 1;
    seen.set(f.id, n);
    if (n > 1) {
      f.renamedFrom = f.id;
      f.id = `${f.id}-${n}`;
    }
  }
}

function order(lab: Lab): number {
  const m = /^(\d+)/.exec(lab.id);
  return m ? Number(m[1]) : Number.POSITIVE_INFINITY;
}

/** By numeric prefix ("01-normal-build"), then title; labs without a prefix come last. */
function compareLabs(a: Lab, b: Lab): number {
  const d = order(a) - order(b);
  if (d !== 0 && Number.isFinite(d)) return d;
  if (order(a) !== order(b)) return Number.isFinite(order(a)) ? -1 : 1;
  return a.title.localeCompare(b.title) || a.id.localeCompare(b.id);
}
