// Jekyll-style front matter: a YAML block between "---" lines at the very top of the file.
// Keys of the Play-With-Docker training site (layout, date, author, categories, image, tags)
// are accepted as they are; unknown keys are kept in `meta`, never rejected.
import { LineCounter, isMap, isScalar, parseDocument } from 'yaml';
import type { Node } from 'yaml';
import { yamlMessage } from './checks.ts';

export const MAX_TERMS = 6;

export interface FrontMatter {
  title?: string;
  description?: string;
  duration?: string;
  difficulty?: string;
  tags: string[];
  images: string[];
  terms: number;
  /** Files that must exist in the lab folder. */
  assets: Array<{ path: string; line: number }>;
  meta: Record<string, unknown>;
}

export interface SplitResult {
  fm: FrontMatter;
  /** The body with the front matter lines blanked, so markdown line numbers equal file line numbers. */
  body: string;
  problems: Array<{ line: number; message: string }>;
}

/** Input must already have LF line endings. */
export function splitFrontMatter(src: string): SplitResult {
  const fm: FrontMatter = { tags: [], images: [], terms: 1, assets: [], meta: {} };
  const problems: SplitResult['problems'] = [];
  const lines = src.split('\n');
  if (!/^---\s*$/.test(lines[0] ?? '')) return { fm, body: src, problems };
  let end = -1;
  for (let i = 1; i < lines.length; i++) {
    if (/^(---|\.\.\.)\s*$/.test(lines[i]!)) {
      end = i;
      break;
    }
  }
  if (end < 0) {
    problems.push({ line: 1, message: 'front matter starts with "---" but has no closing "---" line' });
    return { fm, body: src, problems };
  }
  const yamlSrc = lines.slice(1, end).join('\n');
  const body = '\n'.repeat(end + 1) + lines.slice(end + 1).join('\n');
  const lc = new LineCounter();
  const doc = parseDocument(yamlSrc, { lineCounter: lc, prettyErrors: true });
  // Line of a node in the file: the YAML starts on file line 2.
  const lineOf = (n: Node | null | undefined): number => 2 + (n?.range ? lc.linePos(n.range[0]).line - 1 : -1);
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const l = e.linePos?.[0]?.line ?? 1;
      problems.push({ line: 1 + l, message: `front matter: ${yamlMessage(e.message, lines[l] ?? '')}` });
    }
    return { fm, body, problems };
  }
  if (doc.contents === null) return { fm, body, problems };
  if (!isMap(doc.contents)) {
    problems.push({ line: 2, message: 'front matter must be "key: value" lines' });
    return { fm, body, problems };
  }
  const meta = doc.toJS() as Record<string, unknown>;
  fm.meta = meta;
  const lineOfKey: Record<string, number> = {};
  for (const pair of doc.contents.items) {
    const k = pair.key as Node | null;
    if (isScalar(k)) lineOfKey[String(k.value)] = lineOf(k);
  }
  const report = (key: string, message: string) => problems.push({ line: lineOfKey[key] ?? 2, message });
  const str = (key: string): string | undefined => {
    const v = meta[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
    if (v instanceof Date) return v.toISOString();
    report(key, `"${key}" should be text`);
    return undefined;
  };
  const list = (key: string): string[] => {
    const v = meta[key];
    if (v === undefined || v === null) return [];
    if (Array.isArray(v)) return v.map((x) => String(x).trim()).filter(Boolean);
    if (typeof v === 'string') return v.split(/[,\s]+/).filter(Boolean);
    report(key, `"${key}" should be a list, e.g. [a, b]`);
    return [];
  };
  const title = str('title');
  if (title !== undefined) fm.title = title;
  const description = str('description');
  if (description !== undefined) fm.description = description;
  const duration = str('duration');
  if (duration !== undefined) fm.duration = typeof meta.duration === 'number' ? `${duration} min` : duration;
  const difficulty = str('difficulty');
  if (difficulty !== undefined) fm.difficulty = difficulty;
  fm.tags = list('tags');
  fm.images = list('images');
  if (meta.terms !== undefined && meta.terms !== null) {
    const t = meta.terms;
    if (typeof t !== 'number' || !Number.isInteger(t) || t < 0 || t > MAX_TERMS) {
      report('terms', `terms must be a whole number from 0 to ${MAX_TERMS}, not ${JSON.stringify(t)}`);
    } else fm.terms = t;
  }
  if (meta.assets !== undefined) {
    const v = meta.assets;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) report('assets', '"assets" should be a list of file names in the lab folder');
    else {
      // Point at each item's own line when we can.
      const node = doc.contents.get('assets', true) as Node | undefined;
      const items = node && 'items' in node ? (node as unknown as { items: Node[] }).items : [];
      v.forEach((p: string, i: number) => fm.assets.push({ path: p, line: items[i] ? lineOf(items[i]) : (lineOfKey.assets ?? 2) }));
    }
  }
  return { fm, body, problems };
}
