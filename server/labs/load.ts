// Every lab in a folder: a subfolder with lab.md (its other files are the sandbox workdir),
// or a single .md/.markdown file. A broken lab comes back with its problems, never as a throw;
// only an unreadable labs folder itself throws.
import { killercodaToMarkdown } from './killercoda.ts';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Lab, LabProblem } from './types.ts';
import { renderMarkdown } from './render.ts';

export { formatProblem, renderMarkdown } from './render.ts';

/** Names in a labs folder that are documentation, not labs. */
const NOT_LABS = /^(readme|license|contributing|changelog)\.(md|markdown)$/i;
const LAB_FILE = /\.(md|markdown)$/i;
/** A lab folder's markdown file, in order of preference. */
const LAB_MD_NAMES = ['lab.md', 'lab.markdown'];

export async function loadLabs(dir: string): Promise<{ labs: Lab[]; problems: LabProblem[] }> {
  const root = path.resolve(dir);
  const entries = await fs.readdir(root, { withFileTypes: true });
  const labs: Lab[] = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.name.startsWith('.') || e.name.startsWith('_')) continue;
    const full = path.join(root, e.name);
    if (e.isDirectory()) {
      const lab = await loadFolderLab(root, full, e.name);
      if (lab) labs.push(lab);
    } else if (e.isFile() && LAB_FILE.test(e.name) && !NOT_LABS.test(e.name)) {
      labs.push(await loadFileLab(root, full, e.name.replace(LAB_FILE, '')));
    }
  }
  dedupeIds(root, labs);
  labs.sort(compareLabs);
  return { labs, problems: labs.flatMap((l) => l.problems) };
}

async function loadFolderLab(root: string, folder: string, name: string): Promise<Lab | null> {
  const files = await listFiles(folder);
  const mdName = LAB_MD_NAMES.find((n) => files.has(n));
  if (!mdName) return files.has('index.json') ? loadScenarioLab(root, folder, name, files) : null; // else a folder of images or notes
  const file = path.join(folder, mdName);
  const rel = toPosix(path.relative(root, file));
  const source = await readSource(file);
  const lab = buildLab(source, { id: slug(name), file, rel, fallbackTitle: name, assetExists: (p) => files.has(p) });
  lab.assetsDir = folder;
  return lab;
}

/** A Killercoda-style scenario (index.json + step files), converted to our lab Markdown. */
async function loadScenarioLab(root: string, folder: string, name: string, files: Set<string>): Promise<Lab> {
  const file = path.join(folder, 'index.json');
  const rel = toPosix(path.relative(root, file));
  const source = await readSource(file);
  if (source instanceof Error) return buildLab(source, { id: slug(name), file, rel, fallbackTitle: name, assetExists: () => false });
  const texts = new Map<string, string>();
  for (const f of files) if (/\.(md|markdown|sh)$/i.test(f)) texts.set(f, await fs.readFile(path.join(folder, f), 'utf8'));
  const conv = killercodaToMarkdown(source, (p) => texts.get(p.replace(/^\.\//, '')));
  const lab = buildLab(conv.markdown, { id: slug(name), file, rel, fallbackTitle: name, assetExists: (p) => files.has(p) });
  lab.problems.unshift(...conv.problems.map((message) => ({ file: rel, line: 1, message })));
  lab.assetsDir = folder;
  return lab;
}

async function loadFileLab(root: string, file: string, base: string): Promise<Lab> {
  const rel = toPosix(path.relative(root, file));
  const source = await readSource(file);
  // A single-file lab has no folder of its own: nothing it references can be an asset.
  return buildLab(source, { id: slug(base), file, rel, fallbackTitle: base, assetExists: () => false });
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
  o: { id: string; file: string; rel: string; fallbackTitle: string; assetExists: (p: string) => boolean },
): Lab {
  if (source instanceof Error) {
    return {
      id: o.id, file: o.file, title: o.fallbackTitle, description: '', tags: [], images: [], terms: 1, meta: {}, steps: [], html: '',
      problems: [{ file: o.rel, line: 1, message: `cannot read the file: ${source.message}` }],
    };
  }
  const r = renderMarkdown(source, { file: o.rel, fallbackTitle: o.fallbackTitle, assetExists: o.assetExists });
  const lab: Lab = {
    id: o.id, file: o.file, title: r.title, description: r.description, tags: r.tags, images: r.images, terms: r.terms,
    meta: r.meta, steps: r.steps, html: r.html, problems: r.problems,
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

function dedupeIds(root: string, labs: Lab[]): void {
  const seen = new Map<string, number>();
  for (const lab of [...labs].sort((a, b) => a.file.localeCompare(b.file))) {
    const n = (seen.get(lab.id) ?? 0) + 1;
    seen.set(lab.id, n);
    if (n > 1) {
      lab.problems.push({ file: toPosix(path.relative(root, lab.file)), line: 1, message: `another lab already has the id "${lab.id}"; this one is served as "${lab.id}-${n}"` });
      lab.id = `${lab.id}-${n}`;
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
