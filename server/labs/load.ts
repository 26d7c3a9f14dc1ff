// Every lab in a folder: a subfolder with lab.md (its other files are the sandbox workdir),
// or a single .md/.markdown file. A broken lab comes back with its problems, never as a throw;
// only an unreadable labs folder itself throws.
import { killercodaImporter } from './killercoda.ts';
import { katacodaImporter } from './katacoda.ts';
import { labspaceImporter } from './labspace.ts';
import { educatesImporter } from './educates.ts';
import { instruqtImporter } from './instruqt.ts';
import { iximiuzImporter } from './iximiuz.ts';
import type { ImportSource, LabImporter } from './importer.ts';
import { applyChecksSidecar } from './checks-sidecar.ts';
import fsSync from 'node:fs';
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

/** Every format other than our own lab.md, in the order they are asked (Katacoda before Killercoda: both use index.json). */
export const IMPORTERS: readonly LabImporter[] = [labspaceImporter, educatesImporter, instruqtImporter, iximiuzImporter, katacodaImporter, killercodaImporter];
/** How deep below the labs folder an imported lab is looked for (a cloned repository of many labs). */
const MAX_DEPTH = 3;

/** A lab found in the folder, before it is read: its id must be final first (picture URLs carry it). */
interface Found {
  kind: 'markdown' | 'imported' | 'file';
  importer?: LabImporter;
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
      await findInFolder(full, e.name, 0, found);
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

/** A folder is a lab (lab.md, or a format an importer knows), or else may hold labs further down. */
async function findInFolder(full: string, rel: string, depth: number, found: Found[]): Promise<void> {
  const files = await listFiles(full);
  const name = rel.split('/').pop()!;
  const mdName = LAB_MD_NAMES.find((n) => files.has(n));
  if (mdName) {
    found.push({ kind: 'markdown', file: path.join(full, mdName), name, folder: full, files, id: slug(rel) });
    return;
  }
  const src = sourceOf(full, files);
  for (const importer of IMPORTERS) {
    const main = importer.detect(src);
    if (main) {
      found.push({ kind: 'imported', importer, file: path.join(full, main), name, folder: full, files, id: slug(rel) });
      return;
    }
  }
  if (depth >= MAX_DEPTH) return;
  // else a folder of images or notes, or a repository of labs
  for (const e of (await fs.readdir(full, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.isDirectory() && !e.name.startsWith('.') && !e.name.startsWith('_') && e.name !== 'node_modules') await findInFolder(path.join(full, e.name), `${rel}/${e.name}`, depth + 1, found);
  }
}

/** An importer's view of a folder; files are read when asked, at most once. */
function sourceOf(folder: string, files: Set<string>): ImportSource {
  const cache = new Map<string, string | undefined>();
  return {
    files,
    read(rel) {
      const clean = path.posix.normalize(rel.replace(/^\.\//, ''));
      if (!files.has(clean)) return undefined;
      if (!cache.has(clean)) {
        try {
          cache.set(clean, fsSync.readFileSync(path.join(folder, clean), 'utf8'));
        } catch {
          cache.set(clean, undefined); // unreadable reads as missing; the importer warns about it
        }
      }
      return cache.get(clean);
    },
  };
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
  if (f.kind === 'markdown' || source instanceof Error) {
    const lab = buildLab(source, inFolder);
    lab.assetsDir = f.folder!;
    return lab;
  }
  // Another format (importer.ts), converted to our lab Markdown; a checks.yaml beside it adds our checks.
  const src = sourceOf(f.folder!, files);
  const folderRel = toPosix(path.relative(root, f.folder!));
  const at = (n: { file: string; line: number; message: string }) => ({ file: `${folderRel}/${n.file}`, line: n.line, message: n.message });
  let conv;
  try {
    conv = f.importer!.convert(src);
  } catch (e) {
    // An importer bug must show as a broken lab, not take the loader down.
    conv = { markdown: '', problems: [{ file: path.basename(f.file), line: 1, message: `could not read this ${f.importer!.format} lab: ${(e as Error).message}` }], warnings: [], workspace: null };
  }
  const side = applyChecksSidecar(conv.markdown, src.read('checks.yaml'));
  const lab = buildLab(side.markdown, inFolder);
  lab.problems.unshift(...conv.problems.map(at), ...side.problems.map(at));
  if (conv.unsupported) lab.problems.unshift({ file: rel, line: 1, message: conv.unsupported });
  lab.warnings = [...conv.warnings.map(at), ...side.warnings.map(at), ...(lab.warnings ?? [])];
  lab.meta = { ...lab.meta, format: f.importer!.format };
  if (conv.workspace !== null) lab.assetsDir = conv.workspace ? path.join(f.folder!, conv.workspace) : f.folder!;
  // Pictures stay where the source keeps them, whatever seeds the working directory.
  lab.picturesDir = f.folder!;
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
  if (r.variables !== undefined) lab.variables = r.variables;
  if (r.duration !== undefined) lab.duration = r.duration;
  if (r.difficulty !== undefined) lab.difficulty = r.difficulty;
  return lab;
}

/** Files listed per folder at most: a lab is not a monorepo. */
const MAX_FILES = 20_000;

/** Relative "/"-separated paths of every file under `folder` (hidden files skipped). */
async function listFiles(folder: string): Promise<Set<string>> {
  const out = new Set<string>();
  const walk = async (d: string, prefix: string, depth: number): Promise<void> => {
    if (depth > 8 || out.size > MAX_FILES) return; // a symlink loop or a vendored tree: the lab's own files are near the top
    for (const e of await fs.readdir(d, { withFileTypes: true })) {
      // Hidden files are skipped, except a legacy Labspace's .labspace/ folder.
      if (e.name.startsWith('.') && !(e.name === '.labspace' && depth === 0)) continue;
      if (e.name === 'node_modules' || e.name === '.git') continue;
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
