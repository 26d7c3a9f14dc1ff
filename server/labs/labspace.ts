// Docker Labspaces: labspace.yaml (at the root, in labspace/, or the legacy .labspace/) lists
// sections (Markdown pages), services (tabs on localhost ports) and variables. Shell fences get a
// Run button, save-as= fences a "Save file" action, remark directives (:tabLink, :fileLink,
// ::variableDefinition, ::variableSetButton, :::conditionalDisplay) become our links and widgets,
// $$var$$ takes the learner's own values, and project/ seeds the working directory.
import { VARIABLE_NAME } from '../protocol/variables.ts';
import { type ImportNote, type ImportResult, type ImportSource, type LabImporter, fence, frontMatter, lineAt, naturalSort, nestHeadings, oneLine, openLink, portLink, readYaml, workspacePath } from './importer.ts';

const PLACES = ['labspace.yaml', 'labspace/labspace.yaml', '.labspace/labspace.yaml'];
const SHELL_LANGS = new Set(['bash', 'sh', 'console', 'shell', 'zsh']);
export const UNSUPPORTED = 'This lab needs Docker Model Runner, the MCP Gateway or GPUs (models: in its compose files), which this server does not offer.';

/** `key="v" key2=v2 flag` → map (flags are "true"). */
export function directiveAttrs(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of s.matchAll(/([\w-]+)(?:=(?:"([^"]*)"|'([^']*)'|([^\s"'}]+)))?/g)) out[m[1]!] = m[2] ?? m[3] ?? m[4] ?? 'true';
  return out;
}

/** A localhost URL → our port link to terminal 1; anything else an ordinary link. */
function tabLink(text: string, href: string): string {
  const m = /^https?:\/\/(?:localhost|127\.0\.0\.1)(?::(\d+))?(\/[^\s]*)?$/i.exec(href.trim());
  if (!m) return `[${text}](${href})`;
  return portLink(text, 1, Number(m[1] ?? 80), m[2] ?? '/');
}

interface Ctx {
  file: string;
  warnings: ImportNote[];
  terminals: Map<string, number>;
  variables: Set<string>;
  /** Open ::: containers: "when" for a conditionalDisplay (closed by ```end-when), "other" for the rest. */
  containers: Array<'when' | 'other'>;
}

/** One fence's info string in our syntax. */
function fenceInfo(lang: string, attrs: Record<string, string>, c: Ctx, line: number): { info: string; note?: string } {
  if (attrs['save-as']) {
    const p = workspacePath(attrs['save-as']);
    return { info: `.save ${p}` };
  }
  if (SHELL_LANGS.has(lang) && attrs['no-run-button'] === undefined) {
    let term = 1;
    const id = attrs['terminal-id'];
    if (id) {
      if (!c.terminals.has(id)) c.terminals.set(id, Math.min(6, c.terminals.size + 2));
      term = c.terminals.get(id)!;
      if (c.terminals.size > 5) c.warnings.push({ file: c.file, line, message: `terminal-id="${id}": more than 5 named terminals; it shares terminal 6` });
    }
    return { info: `.term${term}` };
  }
  if (attrs['no-copy-button'] !== undefined) return { info: lang };
  return { info: SHELL_LANGS.has(lang) ? '.copy' : lang };
}

/** One section page in our syntax. */
export function convertLabspacePage(md: string, c: Ctx): string {
  const src = md.replace(/\r\n?/g, '\n');
  const lines = src.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const f = /^(\s*)(`{3,}|~{3,})\s*([\w+-]*)\s*(.*)$/.exec(l);
    if (f) {
      const [, indent, ticks, lang, rest] = f;
      const body: string[] = [];
      let j = i + 1;
      for (; j < lines.length; j++) {
        const t = lines[j]!;
        if (t.trim().startsWith(ticks![0]!.repeat(ticks!.length)) && /^\s*[`~]+\s*$/.test(t)) break;
        body.push(t.startsWith(indent!) ? t.slice(indent!.length) : t.trimStart());
      }
      if (j >= lines.length) c.warnings.push({ file: c.file, line: i + 1, message: `code block opened here with ${ticks} is never closed; it runs to the end of the page` });
      const attrs = directiveAttrs(rest ?? '');
      const { info } = fenceInfo(lang!.toLowerCase(), attrs, c, i + 1);
      const code = body.join('\n');
      for (const m of code.matchAll(/\$\$([A-Za-z_][\w-]*)\$\$/g)) c.variables.add(m[1]!);
      out.push(...fence(info, code).split('\n').map((x) => indent + x));
      i = j;
      continue;
    }
    out.push(directives(l, c, i + 1));
  }
  for (const m of src.matchAll(/\$\$([A-Za-z_][\w-]*)\$\$/g)) c.variables.add(m[1]!);
  // A conditionalDisplay left open ends with its page.
  while (c.containers.length) {
    if (c.containers.pop() !== 'when') continue;
    c.warnings.push({ file: c.file, line: lines.length, message: 'a :::conditionalDisplay is not closed with ::: before the end of the page; it ends there' });
    out.push(fence('end-when', ''));
  }
  return out.join('\n');
}

function directives(l: string, c: Ctx, line: number): string {
  // :::conditionalDisplay{variable="os" requiredValue="mac"} … ::: (also hasValue / hasNoValue)
  const indent = /^\s*/.exec(l)![0];
  const cond = /^\s*:::conditionalDisplay\{([^}]*)\}\s*$/.exec(l);
  if (cond) {
    const a = directiveAttrs(cond[1]!);
    if (!a.variable || !VARIABLE_NAME.test(a.variable)) {
      c.warnings.push({ file: c.file, line, message: `conditionalDisplay names no variable (variable="…"); its content is always shown` });
      c.containers.push('other');
      return '';
    }
    c.variables.add(a.variable);
    c.containers.push('when');
    const test = a.requiredValue !== undefined ? `${a.variable}=${a.requiredValue}` : a.hasNoValue !== undefined ? `!${a.variable}` : a.variable;
    return fence(`when ${test}`, '').split('\n').map((x) => indent + x).join('\n');
  }
  if (/^\s*:::\s*$/.test(l)) return c.containers.pop() === 'when' ? fence('end-when', '').split('\n').map((x) => indent + x).join('\n') : '';
  if (/^\s*:::\w/.test(l)) {
    c.containers.push('other');
    c.warnings.push({ file: c.file, line, message: `"${l.trim()}" is a container directive this server does not know; its content is shown as is` });
  }
  // ::variableDefinition[name]{prompt="…"}: an input for the learner's own value.
  let out = l.replace(/^\s*::variableDefinition\[([^\]]+)\](?:\{([^}]*)\})?\s*$/, (m, name: string, attrs?: string) => {
    const n = name.trim();
    if (!VARIABLE_NAME.test(n)) {
      c.warnings.push({ file: c.file, line, message: `variableDefinition "${n}" is not a variable name; shown as text` });
      return m;
    }
    c.variables.add(n);
    const a = directiveAttrs(attrs ?? '');
    return fence(`variable ${n}`, oneLine(a.prompt, `Value of ${n}`)).split('\n').map((x) => indent + x).join('\n');
  });
  // ::variableSetButton[label]{variables="a=1,b=2"} (or variable= value=), also inline: a button.
  out = out.replace(/:{1,2}variableSetButton\[((?:\\.|[^\]])*)\]\{([^}]*)\}/g, (m, label: string, attrs: string) => {
    const a = directiveAttrs(attrs);
    const pairs = a.variables ?? (a.variable ? `${a.variable}=${a.value ?? ''}` : '');
    const names = pairs.split(',').filter((p) => p.includes('=')).map((p) => p.split('=')[0]!.trim());
    if (!names.length || names.some((n) => !VARIABLE_NAME.test(n)) || (pairs.includes('"') && pairs.includes("'"))) {
      c.warnings.push({ file: c.file, line, message: `variableSetButton "${label}" sets no variable this server can read (variables="name=value,…"); shown as text` });
      return m;
    }
    for (const n of names) c.variables.add(n);
    const q = pairs.includes('"') ? "'" : '"';
    return `[${label}](#){:data-set-variables=${q}${pairs}${q}}`;
  });
  // :tabLink[text]{href="http://localhost:8080" …} and ::tabLink
  out = out.replace(/:{1,2}tabLink\[([^\]]*)\]\{([^}]*)\}/g, (_m, text: string, attrs: string) => {
    const a = directiveAttrs(attrs);
    if (!a.href) {
      c.warnings.push({ file: c.file, line, message: `tabLink "${text}" has no href; shown as text` });
      return text;
    }
    return tabLink(text || a.href, a.href);
  });
  // :fileLink[text]{path="app.js"}
  out = out.replace(/:{1,2}fileLink\[([^\]]*)\]\{([^}]*)\}/g, (_m, text: string, attrs: string) => {
    const a = directiveAttrs(attrs);
    if (!a.path) {
      c.warnings.push({ file: c.file, line, message: `fileLink "${text}" has no path; shown as text` });
      return text;
    }
    return openLink(text || a.path, workspacePath(a.path));
  });
  const left = /(^|\s):{1,2}([a-zA-Z]\w*)\[[^\]]*\]\{/.exec(out);
  if (left) c.warnings.push({ file: c.file, line, message: `"${left[2]}" is a directive this server does not know; it shows as text` });
  // GitHub alerts ("> [!TIP]") read as a bold label.
  return out.replace(/^(\s*>\s*)\[!(NOTE|TIP|IMPORTANT|WARNING|CAUTION)\]\s*$/i, (_m, q: string, k: string) => `${q}**${k[0]!.toUpperCase()}${k.slice(1).toLowerCase()}:**`);
}

export const labspaceImporter: LabImporter = {
  format: 'labspace',
  detect: (src) => PLACES.find((p) => src.files.has(p)),
  convert: labspaceToMarkdown,
};

export function labspaceToMarkdown(src: ImportSource): ImportResult {
  const main = PLACES.find((p) => src.files.has(p))!;
  const dir = main.includes('/') ? main.slice(0, main.lastIndexOf('/') + 1) : '';
  const problems: ImportNote[] = [];
  const warnings: ImportNote[] = [];
  const spec = (readYaml(src.read(main), main, warnings) ?? {}) as Record<string, unknown>;
  const c: Ctx = { file: main, warnings, terminals: new Map(), variables: new Set(), containers: [] };

  let sections = Array.isArray(spec.sections) ? (spec.sections as Array<Record<string, unknown>>) : [];
  if (sections.length === 0) {
    // No list: every page of the folder, in file order.
    sections = [...src.files].filter((f) => f.startsWith(dir) && !f.slice(dir.length).includes('/') && /\.md$/i.test(f) && !/readme/i.test(f)).sort(naturalSort).map((f) => ({ contentPath: f.slice(dir.length) }));
    if (sections.length) warnings.push({ file: main, line: 1, message: 'no sections: listed; every page of the folder is a section, in file order' });
  }
  const parts: string[] = [];
  const services = Array.isArray(spec.services) ? (spec.services as Array<Record<string, unknown>>) : [];
  const links = services
    .filter((s) => typeof s.url === 'string')
    .map((s) => `- ${tabLink(oneLine(s.title, String(s.id ?? s.url)), String(s.url))}`);
  if (links.length) parts.push('Services of this lab (they open once the lab has started them):', '', ...links, '');
  sections.forEach((s, i) => {
    const rel = typeof s.contentPath === 'string' ? s.contentPath.replace(/^\.\//, '') : '';
    const file = dir + rel;
    const text = rel ? src.read(file) : undefined;
    if (text === undefined) warnings.push({ file: main, line: lineOf(src.read(main) ?? '', rel || `sections`), message: `section ${i + 1} names "${rel}", which is not in the folder; it is empty` });
    c.file = file;
    let body = text ?? '';
    let title = typeof s.title === 'string' ? s.title : '';
    // A page's own "# Title" is the step title when the section has none.
    const h1 = /^#\s+(.+)\n/.exec(body);
    if (h1) {
      title ||= h1[1]!.trim();
      body = body.slice(h1[0].length);
    }
    parts.push(`## ${oneLine(title, `Section ${i + 1}`)}`, '', nestHeadings(convertLabspacePage(body, c), 1), '');
  });

  const variables: Record<string, string> = {};
  const declared = spec.variables;
  if (Array.isArray(declared)) for (const v of declared as Array<Record<string, unknown>>) variables[String(v.name ?? v.id ?? '')] = String(v.default ?? v.value ?? '');
  else if (declared && typeof declared === 'object') for (const [k, v] of Object.entries(declared)) variables[k] = typeof v === 'object' && v ? String((v as Record<string, unknown>).default ?? '') : String(v ?? '');
  for (const v of c.variables) if (v && !(v in variables)) variables[v] = '';
  delete variables[''];

  const project = 'project';
  const hasProject = [...src.files].some((f) => f.startsWith(`${project}/`));
  // $$var$$ stays as written: the renderer shows each learner's own value (the default until they set one).
  const body = parts.join('\n');
  const fm = frontMatter({
    title: oneLine(spec.title, 'Untitled Labspace'),
    description: typeof spec.description === 'string' ? spec.description.trim() : undefined,
    terms: Math.max(1, ...[...c.terminals.values()]),
    format: 'labspace',
    variables: Object.keys(variables).length ? variables : undefined,
  });
  const r: ImportResult = { markdown: `${fm}\n${body}`, problems, warnings, workspace: hasProject ? project : null };
  if (needsUnsupported(src, dir)) r.unsupported = UNSUPPORTED;
  return r;
}

/** models: in a compose file (or one a page saves), the MCP Gateway, Model Runner commands, or a GPU reservation. */
function needsUnsupported(src: ImportSource, dir: string): boolean {
  for (const f of src.files) {
    const compose = /(^|\/)(docker-)?compose[\w.-]*\.ya?ml$/i.test(f);
    const page = f.startsWith(dir) && /\.md$/i.test(f);
    if (!compose && !page) continue;
    const t = src.read(f) ?? '';
    if (/^models:/m.test(t) || /docker\/mcp-gateway/.test(t) || /capabilities:\s*\[?\s*["']?gpu/.test(t)) return true;
    if (page && /^\s*docker (?:model (?:run|pull)|mcp (?:gateway|server))\b/m.test(t)) return true;
  }
  return false;
}

function lineOf(text: string, needle: string): number {
  const at = text.indexOf(needle);
  return at < 0 ? 1 : lineAt(text, at);
}
