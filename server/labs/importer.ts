// The one interface every lab format other than our own lab.md goes through. An importer looks at a
// folder (its file list and a way to read a file), says whether the folder is a lab of its format,
// and turns it into our lab Markdown, which then meets the same renderer, checks and validation as
// any lab.md. Importers are pure: the loader does the reading.
import YAML from 'yaml';

/** A folder as an importer sees it. */
export interface ImportSource {
  /** Every file under the folder, relative and "/"-separated (hidden folders an importer needs, like .labspace/, included). */
  files: ReadonlySet<string>;
  /** The text of one of those files; undefined when it is missing or unreadable. */
  read(rel: string): string | undefined;
}

/** A problem in a source file, relative to the lab's folder. */
export interface ImportNote {
  file: string;
  line: number;
  message: string;
}

export interface ImportResult {
  markdown: string;
  /** The source itself is unusable (bad JSON, no steps): the lab is listed as broken. */
  problems: ImportNote[];
  /** Authoring nits worked around: shown to the author, the lab still runs. */
  warnings: ImportNote[];
  /** Sub-folder whose files seed the learner's working directory ("" for the whole folder, null for none). */
  workspace: string | null;
  /** Set when the lab needs something this server does not offer: listed, with this sentence, not runnable. */
  unsupported?: string;
}

export interface LabImporter {
  /** Name shown in the catalogue's meta and the README ("katacoda", "labspace"…). */
  format: string;
  /** The file that makes the folder a lab of this format (e.g. "index.json"), or undefined. */
  detect(src: ImportSource): string | undefined;
  convert(src: ImportSource): ImportResult;
}

// ---- helpers the importers share -----------------------------------------------------------------

/** Headings of an imported page go below "##", so only the importer's own "##" starts a step. */
export function nestHeadings(md: string, by = 2): string {
  let fence: string | null = null;
  return md
    .split('\n')
    .map((l) => {
      const f = /^\s*(`{3,}|~{3,})/.exec(l);
      if (f) {
        if (fence === null) fence = f[1]!;
        else if (f[1]!.startsWith(fence[0]!) && f[1]!.length >= fence.length && /^\s*[`~]+\s*$/.test(l)) fence = null;
      }
      if (fence !== null || f) return l;
      const m = /^(#{1,6})\s/.exec(l);
      return m ? '#'.repeat(Math.min(6, m[1]!.length + by)) + l.slice(m[1]!.length) : l;
    })
    .join('\n');
}

/** A fence that cannot be closed by anything inside `body`. */
export function fence(info: string, body: string): string {
  const longest = Math.max(2, ...[...body.matchAll(/`{3,}/g)].map((m) => m[0].length));
  const ticks = '`'.repeat(longest + 1);
  return `${ticks}${info}\n${body.replace(/\n+$/, '')}\n${ticks}`;
}

/** A script as one `run:` command check, exit 0 passes. */
export function scriptCheck(script: string, title: string, extra: Record<string, string | number> = {}): string {
  const item: Record<string, unknown> = { run: stripShebang(script), title, ...extra };
  return fence('check', YAML.stringify([item], { lineWidth: 0 }).trimEnd());
}

/** Our set-up fence for a script, run on node `node` (1 when the format names no machine). */
export function setupBlock(script: string, node = 1): string {
  return fence(node === 1 ? 'setup' : `setup node${node}`, stripShebang(script));
}

export function stripShebang(script: string): string {
  return script.replace(/\r\n?/g, '\n').replace(/^#!.*\n/, '').trimEnd();
}

/** Front matter of a Markdown page (YAML between "---" lines) and the body after it, with the body's first line number. */
export function splitPage(text: string): { data: Record<string, unknown>; body: string; bodyLine: number; error?: string } {
  const src = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const m = /^---\n([\s\S]*?)\n---[ \t]*(?:\n|$)/.exec(src);
  if (!m) return { data: {}, body: src, bodyLine: 1 };
  const bodyLine = m[0].split('\n').length;
  try {
    const data: unknown = YAML.parse(m[1]!);
    return { data: data && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : {}, body: src.slice(m[0].length), bodyLine };
  } catch (e) {
    return { data: {}, body: src.slice(m[0].length), bodyLine, error: (e as Error).message.split('\n')[0]! };
  }
}

/** Parses YAML, reporting a syntax error as a note instead of throwing. */
export function readYaml(text: string | undefined, file: string, notes: ImportNote[]): unknown {
  if (text === undefined) return undefined;
  try {
    return YAML.parse(text);
  } catch (e) {
    const err = e as Error & { linePos?: Array<{ line: number }> };
    notes.push({ file, line: err.linePos?.[0]?.line ?? 1, message: `not valid YAML: ${err.message.split('\n')[0]}` });
    return undefined;
  }
}

/** The front matter of our lab Markdown. */
export function frontMatter(fields: Record<string, unknown>): string {
  const clean = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined && v !== ''));
  return `---\n${YAML.stringify(clean, { lineWidth: 0 }).trimEnd()}\n---\n`;
}

/** A port link in our syntax. */
export function portLink(text: string, term: number, port: number, path = '/'): string {
  return `[${text.replace(/[[\]]/g, '')}](${path.startsWith('/') ? path : `/${path}`}){:data-term=".term${term}"}{:data-port="${port}"}`;
}

/** A link that opens a file of the working directory in the editor. */
export function openLink(text: string, file: string): string {
  return `[${text.replace(/[[\]]/g, '')}](#){:data-open="${file.replace(/"/g, '')}"}`;
}

/** "~/x", "/root/x", "./x" → "x": our editor paths are relative to /root. */
export function workspacePath(p: string): string {
  return p.trim().replace(/^~\//, '').replace(/^\/root\//, '').replace(/^\.\//, '');
}

/** 1-based line of character offset `at` in `text`. */
export function lineAt(text: string, at: number): number {
  return text.slice(0, at).split('\n').length;
}

/** The highest terminal our Markdown uses, at least 1 and at most 6. */
export function termsUsed(md: string): number {
  let max = 1;
  for (const m of md.matchAll(/\.term(\d+)\b|^`{3,}setup node(\d+)$/gm)) max = Math.max(max, Math.min(6, Number(m[1] ?? m[2])));
  return max;
}

/** A folder's files sorted the way people number them ("2-x" before "10-x"). */
export function naturalSort(a: string, b: string): number {
  return a.localeCompare(b, undefined, { numeric: true });
}

/** Our step title from a text: one line, no Markdown heading marks. */
export function oneLine(s: unknown, fallback: string): string {
  const t = typeof s === 'string' ? s.replace(/\s+/g, ' ').trim() : '';
  return t || fallback;
}
