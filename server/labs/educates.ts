// Educates workshops: resources/workshop.yaml and workshop/content/** (Hugo pages with front
// matter, page bundles, {{< param >}} shortcodes). Clickable actions are fences whose info string
// names the action (execute, terminal:execute, copy, editor:open-file, examiner:execute-test…), with
// a YAML body for the namespaced ones. The examiner's tests become our command checks.
import YAML from 'yaml';
import { type ImportNote, type ImportResult, type ImportSource, type LabImporter, fence, frontMatter, naturalSort, nestHeadings, oneLine, openLink, scriptCheck, splitPage, termsUsed, workspacePath } from './importer.ts';

/** Values of Educates' session parameters as they are in our sandboxes. */
const PARAMS: Record<string, string> = {
  session_namespace: 'workshop',
  workshop_namespace: 'workshop',
  session_name: 'workshop',
  ingress_domain: 'localhost',
  ingress_protocol: 'http',
  home_dir: '/root',
  workshop_name: 'workshop',
  registry_host: 'localhost:5000',
};

interface Page {
  file: string;
  title: string;
  weight: number;
  body: string;
  bodyLine: number;
}

export const educatesImporter: LabImporter = {
  format: 'educates',
  detect: (src) => (src.files.has('resources/workshop.yaml') && [...src.files].some((f) => f.startsWith('workshop/content/')) ? 'resources/workshop.yaml' : undefined),
  convert: educatesToMarkdown,
};

export function educatesToMarkdown(src: ImportSource): ImportResult {
  const warnings: ImportNote[] = [];
  const problems: ImportNote[] = [];
  let spec: Record<string, unknown> = {};
  try {
    // workshop.yaml may hold several documents; the Workshop one matters.
    const docs = YAML.parseAllDocuments(src.read('resources/workshop.yaml') ?? '').map((d) => d.toJS() as Record<string, unknown>);
    const ws = docs.find((d) => d && d.kind === 'Workshop') ?? docs[0] ?? {};
    spec = ((ws.spec ?? {}) as Record<string, unknown>) ?? {};
  } catch (e) {
    warnings.push({ file: 'resources/workshop.yaml', line: 1, message: `not valid YAML: ${(e as Error).message.split('\n')[0]}` });
  }
  const params: Record<string, string> = { ...PARAMS };
  const pages: Page[] = [];
  for (const f of [...src.files].filter((f) => f.startsWith('workshop/content/') && /\.md$/i.test(f)).sort(naturalSort)) {
    const p = splitPage(src.read(f) ?? '');
    if (p.error) warnings.push({ file: f, line: 1, message: `front matter is not valid YAML (${p.error}); the page has no title` });
    if (p.data.draft === true) continue;
    const name = f.replace(/^workshop\/content\//, '').replace(/(\/(index|_index))?\.md$/i, '');
    if (/(^|\/)_index\.md$/i.test(f) && !p.body.trim()) continue;
    pages.push({ file: f, title: oneLine(p.data.title, name.split('/').pop()!.replace(/^\d+[-_]/, '').replace(/[-_]/g, ' ')), weight: typeof p.data.weight === 'number' ? p.data.weight : Number.POSITIVE_INFINITY, body: p.body, bodyLine: p.bodyLine });
  }
  // Hugo's order: weight, then path.
  pages.sort((a, b) => (a.weight === b.weight ? naturalSort(a.file, b.file) : a.weight - b.weight));
  if (pages.length === 0) warnings.push({ file: 'resources/workshop.yaml', line: 1, message: 'workshop/content has no pages: the workshop has no steps' });

  const parts: string[] = [];
  for (const p of pages) parts.push(`## ${p.title}`, '', nestHeadings(convertEducatesPage(p, src, params, warnings), 1), '');
  const body = parts.join('\n');
  const fm = frontMatter({
    title: oneLine(spec.title, 'Untitled workshop'),
    description: typeof spec.description === 'string' ? spec.description.trim() : undefined,
    duration: typeof spec.duration === 'string' ? spec.duration : undefined,
    terms: termsUsed(body),
    format: 'educates',
  });
  return { markdown: `${fm}\n${body}`, problems, warnings, workspace: '' };
}

/** The clickable actions of one page, in our syntax. */
export function convertEducatesPage(p: Page, src: ImportSource, params: Record<string, string>, warnings: ImportNote[]): string {
  const dir = p.file.slice(0, p.file.lastIndexOf('/') + 1);
  const warn = (line: number, message: string) => warnings.push({ file: p.file, line: p.bodyLine + line - 1, message });
  const lines = p.body.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const f = /^(\s*)(`{3,}|~{3,})\s*([\w:.-]*)\s*(.*)$/.exec(l);
    if (!f) {
      out.push(substitute(l, params, (m) => warn(i + 1, m)).replace(/!\[([^\]]*)\]\((?!https?:|\/)([^)\s]+)\)/g, (_m, alt: string, img: string) => `![${alt}](${dir}${img.replace(/^\.\//, '')})`));
      continue;
    }
    const [, indent, ticks, action] = f;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      if (lines[j]!.trim().startsWith(ticks!) && /^\s*[`~]+\s*$/.test(lines[j]!)) break;
      body.push(lines[j]!.startsWith(indent!) ? lines[j]!.slice(indent!.length) : lines[j]!.trimStart());
    }
    if (j >= lines.length) warn(i + 1, `code block opened here with ${ticks} is never closed; it runs to the end of the page`);
    const text = substitute(body.join('\n'), params, (m) => warn(i + 1, m));
    out.push(...action!.length ? educatesAction(action!, text, src, (m) => warn(i + 1, m)).split('\n').map((x) => indent + x) : [l, ...body, lines[j] ?? ticks!]);
    i = j;
  }
  return out.join('\n');
}

function educatesAction(action: string, text: string, src: ImportSource, warn: (m: string) => void): string {
  const yaml = (): Record<string, unknown> => {
    try {
      const v: unknown = YAML.parse(text);
      return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
    } catch (e) {
      warn(`the ${action} block is not valid YAML (${(e as Error).message.split('\n')[0]})`);
      return {};
    }
  };
  const term = (s: unknown): number => (s === undefined ? 1 : Math.max(1, Math.min(6, Number(s) || 1)));
  switch (action) {
    case 'execute': case 'execute-1': return fence('.term1', text);
    case 'execute-2': case 'execute-3': return fence(`.term${action.slice(-1)}`, text);
    case 'execute-all': return fence('.term1', text) + '\n\n' + fence('.term2', text);
    case 'copy': return fence('.copy', text);
    case 'copy-and-edit': return '*Copy, then edit before you run it:*\n\n' + fence('.copy', text);
    case 'terminal:execute': {
      const y = yaml();
      if (y.session === 'all' || y.session === '*') return fence('.term1', String(y.command ?? '')) + '\n\n' + fence('.term2', String(y.command ?? ''));
      return fence(`.term${term(y.session)}`, String(y.command ?? ''));
    }
    case 'terminal:execute-all': {
      const y = yaml();
      return fence('.term1', String(y.command ?? '')) + '\n\n' + fence('.term2', String(y.command ?? ''));
    }
    case 'terminal:interrupt': case 'terminal:interrupt-all': {
      const y = yaml();
      return fence(`.term${term(y.session)} interrupt`, '# stop the running command (Ctrl-C)');
    }
    case 'terminal:input': {
      const y = yaml();
      return fence(`.term${term(y.session)}${y.endl === false ? ' no-newline' : ''}`, String(y.text ?? ''));
    }
    case 'editor:open-file': case 'editor:select-matching-text': case 'editor:append-lines-to-file': case 'editor:insert-value-into-yaml': case 'editor:replace-text-selection': case 'editor:insert-lines-before-line': {
      const y = yaml();
      const file = workspacePath(String(y.file ?? ''));
      if (action === 'editor:append-lines-to-file' && typeof y.text === 'string') return fence(`.save ${file}`, y.text);
      if (action !== 'editor:open-file') warn(`${action} is shown as a link that opens ${file}; make the edit by hand`);
      return file ? openLink(`Open ${file}`, file) : '';
    }
    case 'files:download-file': {
      const y = yaml();
      const file = workspacePath(String(y.path ?? ''));
      return file ? openLink(`Download ${file}`, file) + ' (opens it in the editor; the Files tab downloads it)' : '';
    }
    case 'examiner:execute-test': {
      const y = yaml();
      const name = String(y.name ?? '');
      const script = src.read(`workshop/examiner/tests/${name}`);
      if (!name || script === undefined) {
        warn(`examiner test "${name}" is not in workshop/examiner/tests/; the check is left out`);
        return '';
      }
      const args = Array.isArray(y.args) ? ' ' + y.args.map((a) => `'${String(a).replace(/'/g, `'\\''`)}'`).join(' ') : '';
      const title = oneLine(y.title, `The test "${name}" passes`);
      // Our checks run a command: the test's own script, with its arguments.
      return scriptCheck(`set -- ${args.trim()}\n${script.replace(/^#!.*\n/, '')}`, title);
    }
    case 'dashboard:open-dashboard': case 'dashboard:open-url': case 'dashboard:reload-dashboard': case 'section:begin': case 'section:end': case 'workshop:copy': {
      if (action === 'workshop:copy') return fence('.copy', String(yaml().text ?? ''));
      const y = yaml();
      return typeof y.url === 'string' ? `[${y.url}](${y.url})` : y.name ? `*(the ${String(y.name)} tab)*` : '';
    }
    default:
      if (/^[a-z-]+:[a-z-]+$/.test(action)) warn(`the action "${action}" is not one this server knows; shown as code`);
      return fence(/^[\w+-]+$/.test(action) ? action : '', text);
  }
}

/** {{< param name >}} and {{% param "name" %}} with the values our sandboxes have. */
function substitute(text: string, params: Record<string, string>, warn: (m: string) => void): string {
  return text
    .replace(/\{\{[<%]\s*param\s+"?([\w.]+)"?\s*[>%]\}\}/g, (m, name: string) => {
      if (name in params) return params[name]!;
      warn(`{{< param ${name} >}} has no value here; it is shown as written`);
      // As written, but not as a Liquid tag (which the renderer would report again, at the wrong file).
      return m.replace(/\{/g, '&#123;').replace(/\}/g, '&#125;');
    })
    // The workshop's own shortcodes (layouts/shortcodes/*.html): their tags go, what they wrap stays.
    .replace(/\{\{[<%]\s*(\/?)\s*([\w-]+)[^}]*?[>%]\}\}/g, (m, close: string, name: string) => {
      if (name === 'param') return m;
      if (!close) warn(`the shortcode {{< ${name} >}} is not one this server renders; what it wraps is shown`);
      return '';
    });
}
